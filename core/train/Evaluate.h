#pragma once
// Running a model over a set of samples: logits for evaluation, and pooled features for the
// feature cache. Eval mode and no gradients throughout; the model's mode is restored.
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "core/data/Transforms.h"
#include "core/dataset/Dataset.h"
#include "core/model/ImageClassifier.h"
#include "core/train/Metrics.h"
#include "core/train/Precision.h"

namespace tlab::core {

struct InferenceOptions {
  int64_t batchSize = 64;
  int workers = 2;
  Precision precision = Precision::Fp32;  ///< Fp32 or Bf16 (resolved); results are float
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(size_t done, size_t total)> progress;
};

/// Pooled backbone features [N, featureDim] for `indices` (in order), plus their labels.
/// Samples that fail to decode are left out; `kept` receives the indices actually used.
torch::Tensor extractFeatures(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                              const std::vector<size_t>& indices, const Preprocess& preprocess,
                              std::vector<size_t>& kept, const InferenceOptions& options = {});

/// Logits [N, C] for `indices` (in order); samples that fail to decode are left out, `kept`
/// receives the indices used.
torch::Tensor modelLogits(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                          const std::vector<size_t>& indices, const Preprocess& preprocess,
                          std::vector<size_t>& kept, const InferenceOptions& options = {});

/// `rows` (one per entry of `kept`) and `kept` itself put back in the order of `indices`.
torch::Tensor restoreOrder(torch::Tensor rows, std::vector<size_t>& kept,
                           const std::vector<size_t>& indices);

/// Full evaluation: metrics, confusion matrix and predictions table.
EvaluationResult evaluateModel(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                               const std::vector<size_t>& indices, const Preprocess& preprocess,
                               const InferenceOptions& options = {});

/// Metrics from logits [N, C] (softmax applied here).
EvaluationResult metricsFromLogits(const torch::Tensor& logits, const std::vector<size_t>& samples,
                                   const Dataset& dataset);

}  // namespace tlab::core
