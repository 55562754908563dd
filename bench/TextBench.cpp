// Throughput of the MiniLM-L6 text encoder as the engine runs it: sentence embedding (eval, no
// gradients, mean pooling) and fine-tuning steps (AdamW on the trainable parameters, linear head,
// cross-entropy) at a fixed sequence length. Random init unless --pretrained (the weights do
// not change the arithmetic). Mirrors bench/py_text_bench.py, which runs Hugging Face
// transformers' BertModel on the same shapes.
//   tlab_bench_text [--seq 128] [--batch 32] [--train top2|all] [--steps 5] [--warmup 2]
// Prints one JSON line per phase: sentences_per_s_median.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/Timing.h"
#include "core/model/FreezeSpec.h"
#include "core/model/ImageClassifier.h"
#include "core/runtime/Runtime.h"
#include "core/train/Precision.h"

using namespace tlab::core;
using tlab::bench::median;
using tlab::bench::timeSteps;
using Clock = std::chrono::steady_clock;

namespace {}  // namespace

struct Options {
  int64_t seq = 128, batch = 32;
  int steps = 5, warmup = 2;
  std::string train = "all";
  std::string precision = "fp32";
};

// --seq N --batch N --steps N --warmup N --train all|top2 --precision fp32|bf16|auto; false on
// an unknown option.
bool parseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--seq")
      o.seq = std::stoll(v);
    else if (k == "--batch")
      o.batch = std::stoll(v);
    else if (k == "--steps")
      o.steps = std::stoi(v);
    else if (k == "--warmup")
      o.warmup = std::stoi(v);
    else if (k == "--train")
      o.train = v;
    else if (k == "--precision")
      o.precision = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return false;
    }
  }
  return true;
}

int main(int argc, char** argv) {
  Options o;
  if (!parseOptions(argc, argv, o)) return 2;
  const int64_t seq = o.seq, batch = o.batch;
  const int steps = o.steps, warmup = o.warmup;
  const std::string train = o.train;
  const RuntimeReport rt = configureRuntime({0, false});
  const Precision precision =
      choosePrecision(kPrecisionNames.parse(o.precision, "--precision"), false, nativeBf16Feature())
          .used;
  torch::manual_seed(0);
  auto net = createArchitecture("bert_l6_h384_a12", 4);
  const auto ids = torch::randint(1000, 30000, {batch, 1, seq}, torch::kLong);
  const auto tokens = torch::cat({ids, torch::ones({batch, 1, seq}, torch::kLong)}, 1);
  const auto labels = torch::randint(0, 4, {batch}, torch::kLong);
  auto report = [&](const char* phase, const std::vector<double>& s) {
    const double m = median(s);
    nlohmann::json j{{"impl", "transferlab"},
                     {"model", "minilm_l6"},
                     {"phase", phase},
                     {"seq", seq},
                     {"batch", batch},
                     {"train", train},
                     {"precision", kPrecisionNames.name(precision)},
                     {"threads", rt.intraOpThreads},
                     {"sentences_per_s_median", m > 0 ? double(batch) / m : 0}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  };

  net->eval();
  report("embed", timeSteps(warmup, steps, [&](int) {
           torch::NoGradGuard g;
           AutocastScope autocast(precision, false);
           net->features(tokens);
         }));

  const FreezeSpec spec =
      train == "top2" ? FreezeSpec::lastStagesTrainable(*net, 2) : FreezeSpec::allTrainable();
  applyFreezeSpec(*net, spec);
  setTrainingMode(*net, spec);
  std::vector<torch::Tensor> params;
  for (auto& p : net->parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(2e-5));
  report("train", timeSteps(warmup, steps, [&](int) {
           opt.zero_grad();
           torch::Tensor logits;
           {
             AutocastScope autocast(precision, false);
             logits = net->forward(tokens);
           }
           torch::nn::functional::cross_entropy(logits.to(torch::kFloat), labels).backward();
           opt.step();
         }));
  return 0;
}
