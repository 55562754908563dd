// Data-parallel training throughput: one rank of a group (or a single process), the engine's own
// gradient averaging (core/train/DataParallel: ~25 MB buckets over c10d/Gloo) and BatchNorm
// buffer broadcast around each synthetic training step. See bench/run-dist-bench.
//   tlab_bench_dist --model resnet18|mobilenet_v2|efficientnet_lite0 --size 96 --batch 32
//                   [--steps 8] [--warmup 2] [--threads 0]
//                   [--world-size W --rank R --dist-store FILE]
//                   [--grad-compression none|fp16|bf16]
//                   [--comm-only 1]   (after one backward pass: only the communication, timed)
// --batch is the global batch: each of W ranks runs batch/W images per step. Rank 0 prints one
// JSON line: images per second (global), step, forward + backward, buffer broadcast and
// all-reduce milliseconds (medians), megabytes all-reduced per step, and the all-reduce's share
// of the step. Without --dist-store, a group meets as torchrun's would: WORLD_SIZE, RANK,
// MASTER_ADDR and MASTER_PORT from the environment (the engine's own reader of them).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/Timing.h"
#include "core/dist/Distributed.h"
#include "core/model/FreezeSpec.h"
#include "core/model/ImageClassifier.h"
#include "core/runtime/Runtime.h"
#include "core/train/DataParallel.h"

using namespace tlab::core;
using tlab::bench::median;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {{"--model", "resnet18"}, {"--size", "96"},
                                          {"--batch", "32"},       {"--steps", "8"},
                                          {"--warmup", "2"},       {"--threads", "0"},
                                          {"--world-size", "1"},   {"--rank", "0"},
                                          {"--dist-store", ""},    {"--grad-compression", "none"},
                                          {"--comm-only", "0"}};
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  const RuntimeReport rt = configureRuntime({std::stoi(a["--threads"]), false});
  DistributedSpec spec = distributedSpecFromEnvironment();  // across machines (or namespaces)
  if (!a["--dist-store"].empty()) {
    spec.worldSize = std::stoi(a["--world-size"]);
    spec.rank = std::stoi(a["--rank"]);
    spec.storeFile = a["--dist-store"];
  }
  spec.timeoutSeconds = 300;
  spec.gradientWire = kGradientWireNames.parse(a["--grad-compression"], "gradient compression");
  DataParallel dp(spec);
  const std::string model = a["--model"];
  const int64_t size = std::stoll(a["--size"]), classes = 10;
  const int64_t batch = std::stoll(a["--batch"]) / spec.worldSize;
  const int steps = std::stoi(a["--steps"]), warmup = std::stoi(a["--warmup"]);
  torch::manual_seed(0);
  auto net = createArchitecture(model, classes, 3);
  const auto format = preferredMemoryFormat(model);
  setMemoryFormat(*net, format);
  const FreezeSpec all = FreezeSpec::allTrainable();
  applyFreezeSpec(*net, all);
  setTrainingMode(*net, all);
  dp.broadcastModel(*net);
  std::vector<torch::Tensor> params;
  for (auto& g : trainableParameterGroups(*net, all))
    params.insert(params.end(), g.params.begin(), g.params.end());
  torch::optim::SGD opt(params, torch::optim::SGDOptions(0.01).momentum(0.9));
  torch::manual_seed(uint64_t(1 + spec.rank));
  const auto x = torch::randn({batch, 3, size, size}).contiguous(format);
  const auto y = torch::randint(0, classes, {batch}, torch::kLong);
  std::vector<double> stepTimes, reduceTimes, computeTimes, buffersTimes, optimizerTimes;
  for (int i = 0; i < warmup + steps; ++i) {
    const auto t0 = Clock::now();
    dp.zeroGradients(opt);
    dp.broadcastBuffers(*net);
    const double buffers = since(t0);
    const auto c0 = Clock::now();
    // --comm-only 1: gradients from the first step only, then the communication alone.
    if (i == 0 || a["--comm-only"] != "1")
      torch::nn::functional::cross_entropy(net->forward(x), y).backward();
    const double compute = since(c0);
    const auto r0 = Clock::now();
    dp.averageGradients(opt);
    const double reduce = since(r0);
    const auto o0 = Clock::now();
    opt.step();
    const double optimizer = since(o0);
    const double step = since(t0);
    if (i >= warmup) {
      stepTimes.push_back(step);
      reduceTimes.push_back(reduce);
      computeTimes.push_back(compute);
      buffersTimes.push_back(buffers);
      optimizerTimes.push_back(optimizer);
    }
  }
  if (spec.rank != 0) return 0;
  const double stepS = median(stepTimes), reduceS = median(reduceTimes);
  nlohmann::json j{{"model", model},
                   {"size", size},
                   {"global_batch", batch * spec.worldSize},
                   {"processes", spec.worldSize},
                   {"threads_per_process", rt.intraOpThreads},
                   {"img_per_s", double(batch * spec.worldSize) / stepS},
                   {"step_ms", stepS * 1000},
                   {"allreduce_ms", reduceS * 1000},
                   {"compute_ms", median(computeTimes) * 1000},  // forward + backward
                   {"buffers_ms", median(buffersTimes) * 1000},  // zero_grad + BN buffers
                   {"optimizer_ms", median(optimizerTimes) * 1000},
                   {"allreduce_mb", dp.allReduceBytes() / 1e6 / double(warmup + steps)},
                   {"grad_compression", kGradientWireNames.name(spec.gradientWire)},
                   {"allreduce_share", stepS > 0 ? reduceS / stepS : 0}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
