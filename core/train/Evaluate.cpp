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

// One inference pass over a model: no gradients, eval mode, BatchNorms folded, the run's
// precision. The destructor gives the model back its weights and its mode however the pass ends.
class InferencePass {
 public:
  InferencePass(ImageClassifierImpl& net, Precision precision)
      : net_(net),
        wasTraining_(net.is_training()),
        device_(deviceOf(net)),
        format_(memoryFormatOf(net)),
        precision_(precision) {
    net.eval();
    folding_.emplace(net);  // after eval(): only eval-mode BatchNorms fold
  }
  ~InferencePass() {
    folding_.reset();
    net_.train(wasTraining_);
  }
  InferencePass(const InferencePass&) = delete;
  InferencePass& operator=(const InferencePass&) = delete;

  /// `run(input)` on the batch's input tensor, on the model's device and layout, under autocast
  /// for bf16; the result as float on the CPU.
  template <typename Run>
  torch::Tensor operator()(Batch& b, Run run) const {
    AutocastScope autocast(precision_, device_.is_cuda());
    return run(inputTensor(b).to(device_).contiguous(format_)).to(torch::kCPU, torch::kFloat);
  }

 private:
  torch::NoGradGuard noGrad_;
  ImageClassifierImpl& net_;
  const bool wasTraining_;
  const torch::Device device_;
  const torch::MemoryFormat format_;
  const Precision precision_;
  std::optional<BatchNormFolding> folding_;
};

}  // namespace

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

namespace {

// One InferencePass over the batches of `indices`: the rows `batchRows(pass, batch)` returns,
// stacked in the order of `indices` (`kept`: the samples used); `columns` wide when none.
template <typename BatchRows>
torch::Tensor collectRows(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                          const std::vector<size_t>& indices, const Preprocess& preprocess,
                          std::vector<size_t>& kept, const InferenceOptions& o, int64_t columns,
                          BatchRows batchRows) {
  std::vector<torch::Tensor> parts;
  kept.clear();
  {
    const InferencePass pass(net, o.precision);
    forEachBatch(std::move(dataset), indices, preprocess, o, [&](Batch& b) {
      parts.push_back(batchRows(pass, b));
      kept.insert(kept.end(), b.indices.begin(), b.indices.end());
    });
  }
  if (parts.empty()) return torch::zeros({0, columns});
  return restoreOrder(torch::cat(parts), kept, indices);
}

}  // namespace

torch::Tensor extractFeatures(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                              const std::vector<size_t>& indices, const Preprocess& preprocess,
                              std::vector<size_t>& kept, const InferenceOptions& o) {
  return collectRows(net, std::move(dataset), indices, preprocess, kept, o, net.featureDim(),
                     [&](const InferencePass& pass, Batch& b) {
                       torch::Tensor f;
                       {
                         c10::InferenceMode inference;
                         f = pass(b, [&](const torch::Tensor& x) { return net.features(x); });
                       }
                       return f.clone();  // a normal tensor (not an inference one): the head
                                          // trains on it
                     });
}

EvaluationResult metricsFromLogits(const torch::Tensor& logits, const std::vector<size_t>& samples,
                                   const Dataset& dataset) {
  const auto probs = torch::softmax(logits.to(torch::kCPU, torch::kFloat), 1).contiguous();
  std::vector<float> p(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
  std::vector<int32_t> labels;
  for (size_t s : samples) labels.push_back(dataset.samples[s].label);
  EvaluationResult r = computeMetrics(dataset.classNames, p, labels, samples, 5);
  const auto z = logits.to(torch::kCPU, torch::kFloat).contiguous();
  r.logits.assign(z.data_ptr<float>(), z.data_ptr<float>() + z.numel());
  return r;
}

torch::Tensor modelLogits(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                          const std::vector<size_t>& indices, const Preprocess& preprocess,
                          std::vector<size_t>& kept, const InferenceOptions& o) {
  const auto classes = int64_t(dataset->numClasses());
  return collectRows(net, std::move(dataset), indices, preprocess, kept, o, classes,
                     [&](const InferencePass& pass, Batch& b) {
                       return pass(b, [&](const torch::Tensor& x) { return net.forward(x); });
                     });
}

EvaluationResult evaluateModel(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                               const std::vector<size_t>& indices, const Preprocess& preprocess,
                               const InferenceOptions& o) {
  std::vector<size_t> kept;
  const auto logits = modelLogits(net, dataset, indices, preprocess, kept, o);
  return metricsFromLogits(logits, kept, *dataset);
}

}  // namespace tlab::core
