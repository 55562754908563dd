// Temperature scaling, reliability/ECE and coverage against hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "core/Errors.h"
#include "core/train/Calibration.h"

namespace tlab::core {
namespace {

TEST(CalibrationTest, TemperatureFitMatchesTheClosedForm) {
  // Four rows with logits [2, 0], three labelled 0 and one 1. The NLL is minimal where
  // sigmoid(2 / T) = 3/4, i.e. 2 / T = ln 3: T = 2 / ln 3.
  const std::vector<float> logits{2, 0, 2, 0, 2, 0, 2, 0};
  const std::vector<int32_t> labels{0, 0, 0, 1};
  const double t = fitTemperature(logits, 2, labels);
  EXPECT_NEAR(t, 2.0 / std::log(3.0), 1e-7);
  // The fitted temperature's NLL is lower than at T = 1 and at neighbours of T.
  EXPECT_LT(meanNll(logits, 2, labels, t), meanNll(logits, 2, labels, 1.0));
  EXPECT_LT(meanNll(logits, 2, labels, t), meanNll(logits, 2, labels, t * 1.01));
  EXPECT_LT(meanNll(logits, 2, labels, t), meanNll(logits, 2, labels, t * 0.99));
  // Closed form of the NLL at T = 1: ln(1 + e^-2) * 3/4 + ln(1 + e^2) / 4.
  EXPECT_NEAR(meanNll(logits, 2, labels),
              0.75 * std::log(1 + std::exp(-2.0)) + 0.25 * std::log(1 + std::exp(2.0)), 1e-9);
}

TEST(CalibrationTest, TemperatureOfASeparableSetIsClampedAndEmptyIsOne) {
  // Every row right: sharper is always better, so T runs to the lower bound.
  EXPECT_NEAR(fitTemperature({3, 0, 0, 3}, 2, {0, 1}), 1e-2, 1e-9);
  // Every row wrong: flatter is always better.
  EXPECT_NEAR(fitTemperature({3, 0, 0, 3}, 2, {1, 0}), 1e2, 1e-6);
  EXPECT_EQ(fitTemperature({}, 3, {}), 1.0);
  EXPECT_THROW(fitTemperature({1, 2, 3}, 2, {0}), InvalidArgument);
  EXPECT_THROW(fitTemperature({1, 2}, 2, {2}), InvalidArgument);
}

TEST(CalibrationTest, CrossValidatedTemperatureKeepsAFitThatHoldsOutOfSample) {
  // 20 rows with logits [4, 0]; rows 0-4 are labelled 1, the rest 0, so each of the 5 folds
  // (row i in fold i % 5) holds three 0s and one 1, as does every fit set: each fold's T makes
  // sigmoid(4 / T) = 3/4, and the held-out NLL is the entropy of (3/4, 1/4).
  std::vector<float> logits;
  std::vector<int32_t> labels;
  for (int r = 0; r < 20; ++r) {
    logits.insert(logits.end(), {4, 0});
    labels.push_back(r < 5 ? 1 : 0);
  }
  const auto check = crossValidateTemperature(logits, 2, labels, 5);
  EXPECT_EQ(check.folds, 5);
  EXPECT_NEAR(check.nllFitted, -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)), 1e-7);
  // At T = 1: ln(1 + e^-4) for every row, plus 4 for the rows labelled 1.
  EXPECT_NEAR(check.nllAtOne, std::log(1 + std::exp(-4.0)) + 0.25 * 4, 1e-9);
  EXPECT_TRUE(check.helps());
}

TEST(CalibrationTest, CrossValidatedTemperatureRejectsAFitThatDoesNotGeneralise) {
  // Logits [2, 0] throughout; fold 0 (rows 0, 2) is labelled 0, fold 1 (rows 1, 3) is labelled
  // 1. On all four rows the fit flattens to the bound (T = 100), but each fold's fit comes from
  // the other fold: all wrong (T = 100) for fold 0, all right (T = 0.01) for fold 1.
  const std::vector<float> logits{2, 0, 2, 0, 2, 0, 2, 0};
  const std::vector<int32_t> labels{0, 1, 0, 1};
  EXPECT_NEAR(fitTemperature(logits, 2, labels), 1e2, 1e-6);
  const auto check = crossValidateTemperature(logits, 2, labels, 2);
  EXPECT_EQ(check.folds, 2);
  EXPECT_NEAR(check.nllAtOne, 1 + std::log(1 + std::exp(-2.0)), 1e-9);
  // Fold 0 at T = 100: ln(1 + e^-0.02); fold 1 at T = 0.01: 200 + ln(1 + e^-200).
  EXPECT_NEAR(check.nllFitted, 0.5 * (std::log(1 + std::exp(-0.02)) + 200), 1e-4);
  EXPECT_FALSE(check.helps());
  // Too few rows for the folds: no check, and the fit stands.
  const auto none = crossValidateTemperature(logits, 2, labels, 5);
  EXPECT_EQ(none.folds, 0);
  EXPECT_TRUE(none.helps());
  EXPECT_THROW(crossValidateTemperature(logits, 2, labels, 1), InvalidArgument);
}

TEST(CalibrationTest, SoftmaxAndTopPredictionsUseTheTemperature) {
  const std::vector<float> logits{2, 0, 0, 1};
  const auto p = softmaxRows(logits, 2, 2.0);  // [1, 0] and [0, 0.5] after dividing by 2
  EXPECT_NEAR(p[0], 1 / (1 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(p[3], 1 / (1 + std::exp(-0.5)), 1e-6);
  const auto top = topPredictions(logits, 2, {0, 0}, 2.0);
  EXPECT_EQ(top.predicted, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(top.correct, (std::vector<uint8_t>{1, 0}));
  EXPECT_NEAR(top.confidence[1], 1 / (1 + std::exp(-0.5)), 1e-6);
}

TEST(CalibrationTest, ReliabilityAndEceByHand) {
  // 10 bins (lower, upper]. 0.95 right -> (0.9, 1]: |1 - 0.95|; 0.85 wrong -> (0.8, 0.9]: 0.85;
  // 0.62 right -> (0.6, 0.7]: 0.38; 0.58 right and 0.55 wrong -> (0.5, 0.6]: accuracy 0.5,
  // confidence 0.565: 0.065 (two rows); 0.3 wrong -> (0.2, 0.3] (not (0.3, 0.4]): 0.3.
  // ECE = (0.05 + 0.85 + 0.38 + 2 * 0.065 + 0.3) / 6 = 1.71 / 6.
  const std::vector<double> conf{0.95, 0.85, 0.62, 0.58, 0.55, 0.3};
  const std::vector<uint8_t> correct{1, 0, 1, 1, 0, 0};
  const auto r = reliability(conf, correct, 10);
  ASSERT_EQ(r.bins.size(), 10u);
  EXPECT_NEAR(r.ece, 1.71 / 6, 1e-12);
  EXPECT_EQ(r.bins[5].count, 2);
  EXPECT_NEAR(r.bins[5].accuracy, 0.5, 1e-12);
  EXPECT_NEAR(r.bins[5].confidence, 0.565, 1e-12);
  EXPECT_EQ(r.bins[2].count, 1);  // 0.3
  EXPECT_EQ(r.bins[3].count, 0);
  EXPECT_EQ(r.bins[9].count, 1);
  EXPECT_NEAR(r.bins[9].lower, 0.9, 1e-12);
  // A perfectly calibrated set: every bin's accuracy equals its confidence.
  EXPECT_NEAR(reliability({0.5, 0.5, 1.0}, {1, 0, 1}, 10).ece, 0.0, 1e-12);
  // 0 goes into the first bin.
  EXPECT_EQ(reliability({0.0}, {0}, 4).bins[0].count, 1);
}

TEST(CalibrationTest, CoverageByHand) {
  const std::vector<double> conf{0.9, 0.8, 0.8, 0.4};
  const std::vector<uint8_t> correct{1, 0, 1, 0};
  const auto curve = coverageCurve(conf, correct);
  ASSERT_EQ(curve.size(), 3u);  // the tie at 0.8 is one point
  EXPECT_DOUBLE_EQ(curve[0].threshold, 0.9);
  EXPECT_DOUBLE_EQ(curve[0].coverage, 0.25);
  EXPECT_DOUBLE_EQ(curve[0].accuracy, 1.0);
  EXPECT_DOUBLE_EQ(curve[1].coverage, 0.75);
  EXPECT_NEAR(curve[1].accuracy, 2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(curve[2].coverage, 1.0);
  EXPECT_DOUBLE_EQ(curve[2].accuracy, 0.5);
  const auto half = coverageAt(conf, correct, 0.5);
  EXPECT_EQ(half.covered, 3);
  EXPECT_NEAR(half.accuracy, 2.0 / 3, 1e-12);
  const auto none = coverageAt(conf, correct, 0.95);
  EXPECT_EQ(none.covered, 0);
  EXPECT_EQ(none.accuracy, 1.0);
}

TEST(CalibrationTest, OodReferenceByHand) {
  // Class 0: [1, 0] and [2, 0] (unit: [1, 0] twice, mean [1, 0]); class 1: [0, 3] (mean [0, 1]).
  const std::vector<float> train{1, 0, 2, 0, 0, 3};
  // Held out: [1, 1] is 1 - cos 45 = 0.2929 from [1, 0]; [0, -1] is 1 from [1, 0] (2 from
  // [0, 1]); [5, 0] is 0. The median of {0, 0.2929, 1} is 0.2929.
  const std::vector<float> held{1, 1, 0, -1, 5, 0};
  const auto ref = fitOodReference(train, {0, 0, 1}, held, 2, 2, 0.5);
  ASSERT_EQ(ref.classMeans.size(), 2u);
  EXPECT_EQ(ref.classMeans[0], (std::vector<float>{1, 0}));
  EXPECT_EQ(ref.classMeans[1], (std::vector<float>{0, 1}));
  EXPECT_NEAR(ref.threshold, 1 - std::sqrt(0.5), 1e-6);
  const float far[2] = {-1, -1}, near[2] = {0, 2};
  EXPECT_NEAR(nearestMeanDistance(ref, far, 2), 1 + std::sqrt(0.5), 1e-6);  // 135 degrees off both
  EXPECT_NEAR(nearestMeanDistance(ref, near, 2), 0.0, 1e-6);
  EXPECT_EQ(nearestMeanDistance(OodReference{}, near, 2), 0.0);
  // A class without training rows gets no mean; mismatched sizes are refused.
  EXPECT_EQ(fitOodReference(train, {0, 0, 0}, {}, 2, 3).classMeans.size(), 1u);
  EXPECT_THROW(fitOodReference(train, {0, 1}, {}, 2, 2), InvalidArgument);
}

}  // namespace
}  // namespace tlab::core
