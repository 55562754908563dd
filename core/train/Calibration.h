#pragma once
// How far a model's confidence can be trusted: temperature scaling (Guo et al. 2017) fitted on
// held-out logits, the reliability diagram and expected calibration error (ECE), and accuracy
// against coverage for abstention ("unsure" below a confidence threshold). Plain vectors in
// and out (logits row-major, N x C), so the GUI, the CLI and the tests use them alike.
#include <cstdint>
#include <string>
#include <vector>

namespace tlab::core {

/// The temperature T > 0 that minimises the mean negative log-likelihood of softmax(logits / T)
/// on `labels` (one entry per row, 0 <= label < classes). NLL is convex in 1/T, so the fit is a
/// bisection on its derivative, exact to ~1e-9. Returns 1 for no rows; T is kept within
/// [1e-2, 1e2] (a separable set would drive it to 0).
double fitTemperature(const std::vector<float>& logits, int64_t classes,
                      const std::vector<int32_t>& labels);

/// Whether a temperature fitted on these rows also helps on rows it was not fitted on. The rows
/// are dealt into `folds` folds (row i into fold i % folds); for each fold, T is fitted on the
/// others and the fold's NLL at that T is compared with its NLL at T = 1. A temperature fitted on
/// a small validation split of an already calibrated model can be noise (it then raises the
/// test ECE); a run keeps T = 1 unless the fit wins out of sample.
struct TemperatureCheck {
  int folds = 0;         ///< 0: too few rows to check (fewer than 2 per fold)
  double nllAtOne = 0;   ///< mean held-out NLL at T = 1
  double nllFitted = 0;  ///< mean held-out NLL at each fold's fitted T
  bool helps() const { return folds == 0 || nllFitted < nllAtOne; }
};
TemperatureCheck crossValidateTemperature(const std::vector<float>& logits, int64_t classes,
                                          const std::vector<int32_t>& labels, int folds = 5);

/// Mean negative log-likelihood of softmax(logits / T).
double meanNll(const std::vector<float>& logits, int64_t classes,
               const std::vector<int32_t>& labels, double temperature = 1.0);

/// softmax(logits / T) per row (N x C, row-major).
std::vector<float> softmaxRows(const std::vector<float>& logits, int64_t classes,
                               double temperature = 1.0);

/// Per row of softmax(logits / T): the top probability and whether its class is the label.
struct TopPrediction {
  std::vector<double> confidence;
  std::vector<uint8_t> correct;  ///< 1: the top class is the label
  std::vector<int32_t> predicted;
};
TopPrediction topPredictions(const std::vector<float>& logits, int64_t classes,
                             const std::vector<int32_t>& labels, double temperature = 1.0);

struct ReliabilityBin {
  double lower = 0, upper = 0;  ///< confidences in (lower, upper]; the first bin includes 0
  int64_t count = 0;
  double confidence = 0;  ///< mean confidence of the bin (0 when empty)
  double accuracy = 0;    ///< fraction correct in the bin (0 when empty)
};
struct Reliability {
  std::vector<ReliabilityBin> bins;
  double ece = 0;  ///< sum over bins of count/N * |accuracy - confidence|
};
/// Equal-width bins over [0, 1] (15 as Guo et al.).
Reliability reliability(const std::vector<double>& confidence, const std::vector<uint8_t>& correct,
                        int bins = 15);

/// Predictions kept when those with confidence below `threshold` are reported as unsure.
struct CoveragePoint {
  double threshold = 0;
  int64_t covered = 0;  ///< predictions at or above the threshold
  double coverage = 0;  ///< covered / N
  double accuracy = 0;  ///< among the covered (1 when none is covered: nothing is wrong)
};
CoveragePoint coverageAt(const std::vector<double>& confidence, const std::vector<uint8_t>& correct,
                         double threshold);
/// One point per distinct confidence, highest threshold first (coverage rising to 1).
std::vector<CoveragePoint> coverageCurve(const std::vector<double>& confidence,
                                         const std::vector<uint8_t>& correct);

/// "Unlike the training data": the mean L2-normalised penultimate feature of each class (from
/// the training split) and the cosine distance to the nearest of them that `quantile` of the
/// validation samples stay within. A confident softmax says nothing about inputs of a class the
/// model never saw (a digit shown to a Fashion-MNIST model is "Sandal" at high probability);
/// their features lie far from every class mean.
struct OodReference {
  std::vector<std::vector<float>> classMeans;  ///< classes x feature width (empty: none)
  double threshold = 0;                        ///< distances above it are unlike the training data
  bool empty() const { return classMeans.empty(); }
};
/// `train` and `held` are row-major (rows x width); `trainLabels` one per train row. Classes
/// without training rows get no mean. The threshold is the `quantile` of `held`'s distances
/// (of train's when `held` is empty).
OodReference fitOodReference(const std::vector<float>& train,
                             const std::vector<int32_t>& trainLabels,
                             const std::vector<float>& held, int64_t width, int64_t classes,
                             double quantile = 0.95);
/// Cosine distance (1 - cosine similarity) from `feature` (width values) to the nearest class
/// mean; 0 when there is no reference.
double nearestMeanDistance(const OodReference& reference, const float* feature, int64_t width);

/// What a run's calibration step found (TrainResult, metrics.json, the bundle's temperature).
struct CalibrationSummary {
  bool fitted = false;
  double temperature = 1.0;        ///< what the run applies: the fit, or 1 when it did not help
  double fittedTemperature = 1.0;  ///< the fit on the whole validation split
  TemperatureCheck check;          ///< the fit out of sample (cross-validated on validation)
  int64_t fitSamples = 0;          ///< validation samples the temperature was fitted on
  double valNllBefore = 0, valNllAfter = 0;
  bool hasTest = false;
  double testEceBefore = 0, testEceAfter = 0;  ///< 15 bins
  OodReference ood;
};

/// The default threshold below which a bundle reports a prediction as "unsure": the calibrated
/// top probability is under even odds.
inline constexpr double kDefaultUnsureBelow = 0.5;

}  // namespace tlab::core
