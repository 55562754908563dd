#include "core/train/SupervisedFit.h"

#include "core/text/WordPieceTokenizer.h"

#include <chrono>
#include <cmath>

namespace tlab::core {

torch::Tensor inputTensor(Batch& b) {
  if (b.seqLength > 0) {
    return torch::from_blob(b.tokens.data(), {int64_t(b.size()), 2, b.seqLength}, torch::kLong);
  }
  return torch::from_blob(b.images.data(), {int64_t(b.size()), b.channels, b.height, b.width});
}

torch::Tensor imageInput(const cv::Mat& image, const Preprocess& preprocess) {
  Rng rng(0);  // unused: no augmentation in the evaluation view
  const cv::Mat prepared = prepareImage(image, preprocess, {}, rng);
  auto x = torch::empty({1, preprocess.channels, preprocess.inputSize, preprocess.inputSize});
  normalizeToChw(prepared, preprocess, x.data_ptr<float>());
  return x;
}

torch::Tensor textInput(std::string_view text, const Preprocess& preprocess, size_t* truncated) {
  TORCH_CHECK(preprocess.tokenizer, "textInput: the preprocessing has no tokenizer");
  const TokenizedText t = preprocess.tokenizer->encode(text, size_t(preprocess.inputSize));
  if (truncated) *truncated = t.pieces + 2 - t.ids.size();
  const auto n = int64_t(t.ids.size());
  return torch::stack({torch::tensor(t.ids), torch::ones({n}, torch::kLong)}).unsqueeze(0);
}

torch::Tensor labelsTensor(Batch& b) {
  return torch::from_blob(b.labels.data(), {int64_t(b.size())}, torch::kLong);
}

double evaluateAccuracy(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                        const std::vector<size_t>& indices, const Preprocess& preprocess,
                        size_t batchSize, int workers) {
  if (indices.empty()) return 0;
  LoaderOptions lo;
  lo.batchSize = batchSize;
  lo.workers = workers;
  lo.shuffle = false;
  lo.preprocess = preprocess;
  DataLoader loader(std::move(dataset), indices, lo);
  loader.startEpoch(0);
  torch::NoGradGuard noGrad;
  const bool wasTraining = net.is_training();
  net.eval();
  int64_t correct = 0, total = 0;
  while (auto b = loader.next()) {
    const auto pred = net.forward(inputTensor(*b).to(deviceOf(net))).argmax(1).to(torch::kCPU);
    correct += pred.eq(labelsTensor(*b)).sum().item<int64_t>();
    total += int64_t(b->size());
  }
  net.train(wasTraining);
  return total ? double(correct) / double(total) : 0;
}

std::vector<FitEpoch> fitClassifier(ImageClassifierImpl& net,
                                    std::shared_ptr<const Dataset> dataset,
                                    const std::vector<size_t>& trainIndices,
                                    const std::vector<size_t>& evalIndices,
                                    const Preprocess& preprocess, const FitOptions& o,
                                    const std::function<void(const FitEpoch&)>& onEpoch) {
  torch::manual_seed(o.seed);
  const torch::Device device = preferredDevice();
  net.to(device);
  applyFreezeSpec(net, o.freeze);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  std::vector<double> multipliers;
  for (auto& g : trainableParameterGroups(net, o.freeze)) {
    multipliers.push_back(g.lrMultiplier);
    auto opts = std::make_unique<torch::optim::AdamWOptions>(o.learningRate * g.lrMultiplier);
    opts->weight_decay(o.weightDecay);
    groups.emplace_back(g.params, std::move(opts));
  }
  torch::optim::AdamW optimizer(
      groups, torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay));
  LoaderOptions lo;
  lo.batchSize = o.batchSize;
  lo.workers = o.workers;
  lo.seed = o.seed;
  lo.preprocess = preprocess;
  lo.augmentation = o.augmentation;
  DataLoader loader(dataset, trainIndices, lo);
  const double totalSteps = double(o.epochs) * double(loader.batchesPerEpoch());
  int64_t step = 0;
  std::vector<FitEpoch> history;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    setTrainingMode(net, o.freeze);
    loader.startEpoch(uint64_t(epoch));
    double lossSum = 0;
    int64_t correct = 0, seen = 0;
    while (auto b = loader.next()) {
      const double factor =
          0.5 * (1 + std::cos(M_PI * double(step++) / totalSteps));  // cosine decay
      for (size_t g = 0; g < optimizer.param_groups().size(); ++g) {
        auto& opts =
            static_cast<torch::optim::AdamWOptions&>(optimizer.param_groups()[g].options());
        opts.lr(o.learningRate * factor * multipliers[g]);
      }
      const auto x = inputTensor(*b).to(device);
      const auto y = labelsTensor(*b).to(device);
      optimizer.zero_grad();
      const auto logits = net.forward(x);
      const auto loss = torch::nn::functional::cross_entropy(logits, y);
      loss.backward();
      optimizer.step();
      lossSum += loss.item<double>() * double(b->size());
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      seen += int64_t(b->size());
    }
    FitEpoch e;
    e.epoch = epoch + 1;
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.trainLoss = seen ? lossSum / double(seen) : 0;
    e.trainAccuracy = seen ? double(correct) / double(seen) : 0;
    e.imagesPerSecond = e.seconds > 0 ? double(seen) / e.seconds : 0;
    e.evalAccuracy = evaluateAccuracy(net, dataset, evalIndices, preprocess);
    history.push_back(e);
    if (onEpoch) onEpoch(e);
  }
  net.eval();
  return history;
}

}  // namespace tlab::core
