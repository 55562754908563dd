#pragma once
// Data quality from a pre-trained backbone's features: likely label errors (confident learning,
// Northcutt et al. 2021, on out-of-sample probabilities from K-fold cross-validated linear
// probes), near-duplicates across splits (train/test leakage), and outliers (samples far from
// all others in feature space). The computations take plain features and probabilities, so each
// is tested against hand-computed cases; findDataIssues() runs them on a dataset, with the
// features from the feature cache when they are there.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/dataset/Dataset.h"

namespace at {
class Tensor;
}

namespace tlab::core {

// ---- Confident learning -------------------------------------------------------------------

struct LabelIssue {
  size_t row = 0;         ///< row of the probabilities (findDataIssues: index into `samples`)
  int32_t given = 0;      ///< the label in the data
  int32_t suggested = 0;  ///< the class confident learning counts it under
  double score = 0;       ///< 1 - p(given): higher is more likely mislabelled
  double givenProbability = 0, suggestedProbability = 0;
};

struct ConfidentJoint {
  /// Per class j: the mean predicted probability of j over rows labelled j (the confidence a
  /// row needs for j to count); +infinity for a class without rows.
  std::vector<double> thresholds;
  /// [given][counted]: rows labelled `given` whose most probable class among those at or above
  /// their thresholds is `counted`; rows with no class above threshold are not counted.
  std::vector<std::vector<int64_t>> counts;
  /// The off-diagonal rows (given != counted), most likely mislabelled first (by score, then row).
  std::vector<LabelIssue> issues;
};

/// `probabilities` is N x C row-major (out-of-sample); `labels` has N entries in [0, C).
ConfidentJoint confidentJoint(const std::vector<float>& probabilities,
                              const std::vector<int32_t>& labels, int64_t classes);

/// The label issues TransferLab reports: as many rows as the confident joint has off the
/// diagonal (its estimate of how many labels are wrong), chosen as the rows with the lowest
/// probability of their given label whose most probable class is another one (cleanlab's
/// "low self-confidence" with the off-diagonal estimate). Each suggests the class the joint
/// counted it under, or else its most probable class. Counts and thresholds as confidentJoint.
/// On few-shot Fashion-MNIST with 10% of labels flipped this flags ~100 at precision ~0.8
/// where the joint's own off-diagonal rows are ~0.6 precise (README, "Finding label errors").
ConfidentJoint findLabelIssues(const std::vector<float>& probabilities,
                               const std::vector<int32_t>& labels, int64_t classes);

// ---- Cross-validated linear probes ---------------------------------------------------------

struct ProbeOptions {
  int folds = 5;
  uint64_t seed = 42;
  int iterations = 100;  ///< L-BFGS iterations per fold (full batch)
  /// The probe minimises mean cross-entropy + weightDecay / 2 * |W|^2 on standardised features.
  /// 0: chosen from kWeightDecayGrid by the cross-validated log loss. A probe that fits noisy
  /// labels cannot point at them; on few-shot Fashion-MNIST with Lite0 features the log loss
  /// and the label-error precision both peak at 1.0, where 1e-3 finds far fewer.
  double weightDecay = 0;
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(int foldsDone, int folds)> progress;
};

inline constexpr double kWeightDecayGrid[] = {0.01, 0.1, 1.0, 10.0};
/// The penalty of the probes that show what fixing the labels does to test accuracy.
inline constexpr double kLightWeightDecay = 0.01;

/// Stratified, seeded fold of each row (0..folds-1): each class is shuffled and dealt round-robin.
std::vector<int> stratifiedFolds(const std::vector<int32_t>& labels, int folds, uint64_t seed);

/// The folds cross-validation uses: `folds`, or fewer when the smallest class has fewer rows
/// (at least 2).
int effectiveFolds(const std::vector<int32_t>& labels, int folds);

/// Out-of-sample probabilities (N x C, row-major): each fold's rows are predicted by a
/// multinomial logistic regression trained on the other folds, on features standardised with
/// those folds' mean and deviation. `features` is [N, F] float. Fewer folds than requested when
/// the smallest class has fewer rows (at least 2).
std::vector<float> crossValidatedProbabilities(const at::Tensor& features,
                                               const std::vector<int32_t>& labels, int64_t classes,
                                               const ProbeOptions& options = {});

struct CrossValidation {
  std::vector<float> probabilities;  ///< out-of-sample, N x C
  double weightDecay = 0;            ///< the one used (chosen when the options said 0)
  double accuracy = 0;               ///< of the probabilities' argmax against the labels
  int folds = 0;
};
/// crossValidatedProbabilities() with what it chose.
CrossValidation crossValidate(const at::Tensor& features, const std::vector<int32_t>& labels,
                              int64_t classes, const ProbeOptions& options = {});

/// The same probe trained on all of `trainFeatures`, applied to `testFeatures` (rows x C).
std::vector<float> probeProbabilities(const at::Tensor& trainFeatures,
                                      const std::vector<int32_t>& trainLabels,
                                      const at::Tensor& testFeatures, int64_t classes,
                                      const ProbeOptions& options = {});

// ---- Near-duplicates and outliers ----------------------------------------------------------

struct DuplicatePair {
  size_t a = 0, b = 0;  ///< rows of the first and second feature set
  double similarity = 0;
};
/// Pairs with cosine similarity >= `threshold`, most similar first. With `sameSet` (a and b
/// the same rows) only pairs a < b are reported. At most `limit` pairs.
std::vector<DuplicatePair> nearDuplicates(const at::Tensor& a, const at::Tensor& b,
                                          double threshold, bool sameSet = false,
                                          size_t limit = 100000);

/// Per row: the mean cosine distance (1 - similarity) to its k nearest other rows.
std::vector<double> outlierScores(const at::Tensor& features, int k = 10);
/// Tukey's far-out fence over `scores`: Q3 + 3 * (Q3 - Q1).
double outlierFence(const std::vector<double>& scores);

// ---- On a dataset --------------------------------------------------------------------------

struct DataIssueOptions {
  std::string backbone = "efficientnet_lite0";  ///< catalog id (or a trusted TorchScript file)
  int imageSize = 0;                            ///< 0: the backbone's own
  ProbeOptions probe;
  double duplicateThreshold = 0.99;  ///< cosine similarity of features
  int outlierNeighbours = 10;
  int workers = 2;
  bool useCache = true;
  const std::atomic<bool>* cancel = nullptr;
  /// Stage ("features (train)", "cross-validated probes", ...) and how far it is.
  std::function<void(const std::string& stage, size_t done, size_t total)> progress;
  std::function<void(const std::string&)> log;
};

struct SampleDuplicate {
  size_t sample = 0, other = 0;  ///< dataset indices; `sample` is in train/val
  double similarity = 0;
};
struct SampleOutlier {
  size_t sample = 0;
  double score = 0;
};

struct DataIssueReport {
  std::string backbone;
  int folds = 0;
  std::vector<size_t> samples;       ///< the labelled training data examined (train and val splits)
  std::vector<float> probabilities;  ///< out-of-sample, samples x classes
  double probeAccuracy = 0;          ///< of those probabilities against the given labels
  double probeWeightDecay = 0;       ///< the probes' L2 penalty
  /// A lightly regularised linear probe (L2 kLightWeightDecay) on the features, trained on the
  /// given labels, with every suggestion accepted, and without the flagged samples, scored on
  /// the test split (when there is one).
  bool hasTestAccuracy = false;
  double testAccuracyGiven = 0, testAccuracyFixed = 0, testAccuracyExcluded = 0;
  ConfidentJoint labels;                    ///< LabelIssue::row indexes `samples`
  std::vector<SampleDuplicate> duplicates;  ///< train/val against test, and train against val
  std::vector<SampleOutlier> outliers;      ///< above the fence, most unusual first
  double outlierFence = 0;
  double seconds = 0;
  std::string featureSource;  ///< "cache" or "computed"
};

/// Runs all three checks on `dataset` (splits assigned). Throws Cancelled when cancelled.
DataIssueReport findDataIssues(std::shared_ptr<const Dataset> dataset,
                               const DataIssueOptions& options);

/// {"backbone","folds","probe_accuracy","label_issues":[{sample,path,given,suggested,score,...}],
///  "thresholds":[...],"confident_joint":[[...]],"duplicates":[...],"outliers":[...]}
nlohmann::json dataIssuesJson(const DataIssueReport& report, const Dataset& dataset);

}  // namespace tlab::core
