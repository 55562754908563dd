// Training / inference throughput of the built-in architectures, as the engine runs them
// (runtime configured by configureRuntime(): threads, allocator, BLAS). Mirrors the
// configurations of the reference PyTorch benchmark (py_finetune.py, see bench/run-bench): random
// init, synthetic inputs, batch 32, SGD(momentum) on the trainable parameters, frozen parts in eval
// mode.
//   tlab_bench_model --model resnet18|mobilenet_v2|efficientnet_lite0 --size 96|224
//                    [--batch 32] [--freeze none|backbone] [--steps 5] [--warmup 2]
//                    [--phases train,infer] [--channels-last auto|on|off]
//                    [--precision fp32|bf16|auto] [--trace FILE]
// Prints one JSON line per phase: img_per_s_median, gflops_achieved (FLOP = 2 x MAC), and the
// precision used (auto: as a training run on this CPU would choose). --trace writes libtorch's
// profiler trace of the inference steps (chrome://tracing JSON).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/Timing.h"
#include "core/model/BatchNormFolding.h"
#include "core/model/FreezeSpec.h"
#include "core/model/ImageClassifier.h"
#include "core/runtime/Runtime.h"
#include "core/train/Precision.h"

using namespace tlab::core;
using tlab::bench::median;
using tlab::bench::timeSteps;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Forward multiply-accumulates per image of the convolutions and the classifier.
double gmacPerImage(const std::string& model, int64_t size, int64_t classes) {
  if (model == "efficientnet_lite0") {
    const int64_t stages[7][5] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2},
                                  {6, 3, 2, 80, 3}, {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4},
                                  {6, 3, 1, 320, 1}};
    int64_t h = ceilDiv(size, 2);
    double macs = double(h * h) * 32 * 3 * 9;
    int64_t in = 32;
    for (const auto& s : stages) {
      for (int64_t r = 0; r < s[4]; ++r) {
        const int64_t stride = r == 0 ? s[2] : 1, hidden = in * s[0];
        if (s[0] != 1) macs += double(h * h) * double(in * hidden);
        h = ceilDiv(h, stride);
        macs +=
            double(h * h) * double(hidden * s[1] * s[1]) + double(h * h) * double(hidden * s[3]);
        in = s[3];
      }
    }
    return (macs + double(h * h) * 320 * 1280 + 1280.0 * double(classes)) / 1e9;
  }
  // ResNet-18 and MobileNetV2 are torchvision's: the per-image counts published with the
  // reference benchmark (roofline.txt).
  static const std::map<std::pair<std::string, int64_t>, double> kTable = {
      {{"resnet18", 96}, 0.334},
      {{"resnet18", 224}, 1.814},
      {{"mobilenet_v2", 96}, 0.056},
      {{"mobilenet_v2", 224}, 0.301}};
  const auto it = kTable.find({model, size});
  return it == kTable.end() ? 0 : it->second;
}

// Four synthetic batches of random images and labels, cycled through by the steps.
void makeBatches(int64_t batch, int64_t size, int64_t classes, torch::MemoryFormat format,
                 std::vector<torch::Tensor>& xs, std::vector<torch::Tensor>& ys) {
  for (int i = 0; i < 4; ++i) {
    xs.push_back(torch::randn({batch, 3, size, size}).contiguous(format));
    ys.push_back(torch::randint(0, classes, {batch}, torch::kLong));
  }
}

struct BenchInfo {
  std::string model, freeze;
  int64_t size = 0, batch = 0;
  int threads = 0;
  bool channelsLast = false;
  Precision precision = Precision::Fp32;
};

// One JSON line: images per second (median and best step) and, when known, GFLOP/s achieved.
void printPhase(const BenchInfo& b, const char* phase, const std::vector<double>& ts,
                double gflopPerImage) {
  const double med = median(ts), best = *std::min_element(ts.begin(), ts.end());
  nlohmann::json j{{"impl", "transferlab"},
                   {"model", b.model},
                   {"size", b.size},
                   {"batch", b.batch},
                   {"freeze", b.freeze},
                   {"phase", phase},
                   {"threads", b.threads},
                   {"channels_last", b.channelsLast},
                   {"precision", kPrecisionNames.name(b.precision)},
                   {"img_per_s_median", double(b.batch) / med},
                   {"img_per_s_best", double(b.batch) / best}};
  if (gflopPerImage > 0) j["gflops_achieved"] = gflopPerImage * double(b.batch) / med;
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {{"--model", "resnet18"},
                                          {"--size", "224"},
                                          {"--batch", "32"},
                                          {"--freeze", "none"},
                                          {"--steps", "5"},
                                          {"--warmup", "2"},
                                          {"--phases", "train,infer"},
                                          {"--channels-last", "auto"},
                                          {"--trace", ""},
                                          {"--precision", "fp32"}};
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  const RuntimeReport rt = configureRuntime({0, false});
  const std::string model = a["--model"];
  const int64_t size = std::stoll(a["--size"]), batch = std::stoll(a["--batch"]), classes = 10;
  const int steps = std::stoi(a["--steps"]), warmup = std::stoi(a["--warmup"]);
  // auto: as the training engine resolves it, per phase (depthwise networks train in fp32).
  const Precision requested = kPrecisionNames.parse(a["--precision"], "--precision");
  const bool depthwise = preferredMemoryFormat(model) == torch::MemoryFormat::ChannelsLast;
  // A frozen backbone only runs forward: the engine keeps bf16 for it (linear probes).
  const Precision trainPrecision =
      choosePrecision(requested, false, nativeBf16Feature(), PrecisionUse::Training,
                      depthwise && a["--freeze"] != "backbone")
          .used;
  const Precision inferPrecision =
      choosePrecision(requested, false, nativeBf16Feature(), PrecisionUse::Inference, depthwise)
          .used;
  // auto: as the training engine chooses (channels_last for depthwise networks and for bf16).
  const bool channelsLast =
      a["--channels-last"] == "on" ||
      (a["--channels-last"] == "auto" &&
       (trainPrecision == Precision::Bf16 || inferPrecision == Precision::Bf16 || depthwise));
  torch::manual_seed(0);
  auto net = createArchitecture(model, classes, 3);
  const FreezeSpec spec =
      a["--freeze"] == "backbone" ? FreezeSpec::backboneFrozen() : FreezeSpec::allTrainable();
  applyFreezeSpec(*net, spec);
  const auto memoryFormat =
      channelsLast ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  if (channelsLast) setMemoryFormat(*net, torch::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> xs, ys;
  makeBatches(batch, size, classes, memoryFormat, xs, ys);
  std::vector<torch::Tensor> params;
  for (auto& g : trainableParameterGroups(*net, spec))
    params.insert(params.end(), g.params.begin(), g.params.end());
  torch::optim::SGD opt(params, torch::optim::SGDOptions(0.01).momentum(0.9));
  const double gmac = gmacPerImage(model, size, classes);
  // Backward: dX everywhere it must flow and dW for trainable layers (as py_finetune.py counts).
  const double trainGflop =
      a["--freeze"] == "backbone" ? 2 * gmac + 4 * (1280.0 * classes / 1e9) : 3 * 2 * gmac;
  auto report = [&](const char* phase, const std::vector<double>& ts, double gflopPerImage) {
    const Precision used = std::string(phase) == "train" ? trainPrecision : inferPrecision;
    printPhase({model, a["--freeze"], size, batch, rt.intraOpThreads, channelsLast, used}, phase,
               ts, gflopPerImage);
  };
  const std::string phases = a["--phases"];
  if (phases.find("train") != std::string::npos) {
    setTrainingMode(*net, spec);
    const auto ts = timeSteps(warmup, steps, [&](int i) {
      opt.zero_grad();
      torch::Tensor logits;
      {
        AutocastScope autocast(trainPrecision, false);
        logits = net->forward(xs[size_t(i) % 4]);
      }
      torch::nn::functional::cross_entropy(logits.to(torch::kFloat), ys[size_t(i) % 4]).backward();
      opt.step();
    });
    report("train", ts, a["--freeze"] == "backbone" ? 0 : trainGflop);
  }
  if (phases.find("infer") != std::string::npos) {
    net->eval();
    torch::NoGradGuard noGrad;
    BatchNormFolding folding(*net);  // as the engine's inference paths run
    std::optional<torch::autograd::profiler::RecordProfile> trace;
    if (!a["--trace"].empty()) trace.emplace(a["--trace"]);
    AutocastScope autocast(inferPrecision, false);
    report("infer", timeSteps(warmup, steps, [&](int i) { net->forward(xs[size_t(i) % 4]); }),
           2 * gmac);
  }
  return 0;
}
