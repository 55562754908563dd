#pragma once
// Evaluation metrics from predicted probabilities: loss, accuracy, top-k, per-class
// precision/recall/F1, macro-F1, the confusion matrix and a per-sample predictions table.
// Plain values; no tensors, so they cross threads and go straight into views and files.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tlab::core {
class Dataset;

struct ClassMetrics {
  std::string name;
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;  ///< true samples of this class
};

struct PredictionRow {
  size_t sample = 0;  ///< dataset sample index
  int32_t label = 0;  ///< true class
  int32_t predicted = 0;
  float probability = 0;      ///< of the predicted class
  float trueProbability = 0;  ///< of the true class
  float loss = 0;             ///< -log(trueProbability)
};

struct EvaluationResult {
  std::vector<std::string> classNames;
  int64_t count = 0;
  double loss = 0, accuracy = 0, macroF1 = 0;
  int topK = 5;
  double topKAccuracy = 0;
  std::vector<ClassMetrics> perClass;
  std::vector<std::vector<int64_t>> confusion;  ///< [true][predicted]
  std::vector<PredictionRow> predictions;
  /// The logits behind `predictions` (count x classes, row-major) when they are known: what
  /// calibration (temperature, reliability) is computed from. Empty otherwise.
  std::vector<float> logits;
};

/// `probabilities` is N x C row-major (rows sum to 1); `labels` and `samples` have N entries.
/// Precision of a class never predicted, and recall of a class never present, count as 0 (as
/// scikit-learn's zero_division=0); macro-F1 averages over classes with support or predictions.
EvaluationResult computeMetrics(const std::vector<std::string>& classNames,
                                const std::vector<float>& probabilities,
                                const std::vector<int32_t>& labels,
                                const std::vector<size_t>& samples, int topK = 5);

/// {"accuracy","macro_f1","loss","top_k","top_k_accuracy","count","classes":[names],
///  "per_class":[{name,precision,recall,f1,support}],"confusion_matrix":[[true][predicted]]}
nlohmann::json metricsJson(const EvaluationResult& result);
/// sample,path,true_label,predicted_label,probability,true_probability,loss (RFC 4180 quoting).
std::string predictionsCsv(const EvaluationResult& result, const Dataset& dataset);
std::string confusionCsv(const EvaluationResult& result);

}  // namespace tlab::core
