#include "core/train/Evaluate.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "core/data/DataLoader.h"
#include "core/model/BatchNormFolding.h"
#include "core/train/ModelInput.h"

namespace tlab::core {
namespace {

// Runs `fn` on each batch of `indices` in order (no shuffling, no augmentation).
void forEachBatch(std::shared_ptr<const Dataset> dataset, const std::vector<size_t>& indices,
                  const Preprocess& preprocess, const InferenceOptions& o,
                  const std::function<void(Batch&)>& fn) {
  LoaderOptions lo;
  lo.batchSize = size_t(o.batchSize);
  lo.workers = o.workers;
  lo.shuffle = false;
  lo.groupByLength = true;  // texts: similar lengths per batch; callers restore the order
  lo.preprocess = preprocess;
  DataLoader loader(std::move(dataset), indices, lo);
  loader.startEpoch(0);
  size_t done = 0;
  while (auto b = loader.next()) {
    if (o.cancel && o.cancel->load()) return;
    fn(*b);
    done += b->size();
    if (o.progress) o.progress(done, indices.size());
  }
}

// Rows and `kept` back in the order of `indices` (length grouping reorders text batches).
torch::Tensor restoreOrder(torch::Tensor rows, std::vector<size_t>& kept,
                           const std::vector<size_t>& indices) {
  std::unordered_map<size_t, size_t> position;
  for (size_t i = 0; i < indices.size(); ++i) position.emplace(indices[i], i);
  std::vector<int64_t> perm(kept.size());
  std::iota(perm.begin(), perm.end(), int64_t(0));
  std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
    return position.at(kept[size_t(a)]) < position.at(kept[size_t(b)]);
  });
  std::vector<size_t> sorted;
  for (int64_t p : perm) sorted.push_back(kept[size_t(p)]);
  kept = std::move(sorted);
  return rows.index_select(0, torch::tensor(perm, torch::kLong));
}

}  // namespace

torch::Tensor extractFeatures(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                              const std::vector<size_t>& indices, const Preprocess& preprocess,
                              std::vector<size_t>& kept, const InferenceOptions& o) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = net.is_training();
  net.eval();
  std::optional<BatchNormFolding> folding(net);
  std::vector<torch::Tensor> parts;
  kept.clear();
  const torch::Device device = deviceOf(net);
  const torch::MemoryFormat format = memoryFormatOf(net);
  forEachBatch(std::move(dataset), indices, preprocess, o, [&](Batch& b) {
    torch::Tensor f;
    {
      c10::InferenceMode inference;
      AutocastScope autocast(o.precision, device.is_cuda());
      f = net.features(inputTensor(b).to(device).contiguous(format));
    }
    // A normal float tensor: the head trains on it and the cache stores fp32.
    parts.push_back(f.to(torch::kCPU, torch::kFloat).clone());
    kept.insert(kept.end(), b.indices.begin(), b.indices.end());
  });
  folding.reset();
  net.train(wasTraining);
  if (parts.empty()) return torch::zeros({0, net.featureDim()});
  return restoreOrder(torch::cat(parts), kept, indices);
}

EvaluationResult metricsFromLogits(const torch::Tensor& logits, const std::vector<size_t>& samples,
                                   const Dataset& dataset) {
  const auto probs = torch::softmax(logits.to(torch::kCPU, torch::kFloat), 1).contiguous();
  std::vector<float> p(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
  std::vector<int32_t> labels;
  for (size_t s : samples) labels.push_back(dataset.samples[s].label);
  return computeMetrics(dataset.classNames, p, labels, samples, 5);
}

EvaluationResult evaluateModel(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                               const std::vector<size_t>& indices, const Preprocess& preprocess,
                               const InferenceOptions& o) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = net.is_training();
  net.eval();
  std::optional<BatchNormFolding> folding(net);
  std::vector<torch::Tensor> parts;
  std::vector<size_t> kept;
  const torch::Device device = deviceOf(net);
  const torch::MemoryFormat format = memoryFormatOf(net);
  forEachBatch(dataset, indices, preprocess, o, [&](Batch& b) {
    AutocastScope autocast(o.precision, device.is_cuda());
    parts.push_back(
        net.forward(inputTensor(b).to(device).contiguous(format)).to(torch::kCPU, torch::kFloat));
    kept.insert(kept.end(), b.indices.begin(), b.indices.end());
  });
  folding.reset();
  net.train(wasTraining);
  const auto logits = parts.empty() ? torch::zeros({0, int64_t(dataset->numClasses())})
                                    : restoreOrder(torch::cat(parts), kept, indices);
  return metricsFromLogits(logits, kept, *dataset);
}

}  // namespace tlab::core
