#include "core/train/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace tlab::core {
namespace {

// Three classes, six samples; predictions chosen so every cell is easy to check by hand.
//   true:  a a b b c c      predicted: a b b b a c
EvaluationResult handCase() {
  const std::vector<float> p = {
      0.7f, 0.2f, 0.1f,  // a -> a
      0.3f, 0.6f, 0.1f,  // a -> b
      0.1f, 0.8f, 0.1f,  // b -> b
      0.2f, 0.5f, 0.3f,  // b -> b
      0.5f, 0.1f, 0.4f,  // c -> a
      0.1f, 0.2f, 0.7f,  // c -> c
  };
  return computeMetrics({"a", "b", "c"}, p, {0, 0, 1, 1, 2, 2}, {10, 11, 12, 13, 14, 15}, 2);
}

TEST(Metrics, ConfusionMatrixAccuracyAndPerClassScores) {
  const auto r = handCase();
  EXPECT_EQ(r.confusion, (std::vector<std::vector<int64_t>>{{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}));
  EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 6.0);
  // a: P = 1/2, R = 1/2, F1 = 1/2;  b: P = 2/3, R = 1, F1 = 0.8;  c: P = 1, R = 1/2, F1 = 2/3
  EXPECT_DOUBLE_EQ(r.perClass[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(r.perClass[1].precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.perClass[1].recall, 1.0);
  EXPECT_NEAR(r.perClass[1].f1, 0.8, 1e-12);
  EXPECT_NEAR(r.perClass[2].f1, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r.macroF1, (0.5 + 0.8 + 2.0 / 3.0) / 3.0, 1e-12);
  EXPECT_EQ(r.perClass[2].support, 2);
}

TEST(Metrics, TopKLossAndPredictionRows) {
  const auto r = handCase();
  // Top-2 misses only sample 4 (c scored 0.4 behind a's 0.5: rank 2 -> hit) ... check each:
  // s1 true a 0.3 rank 2 hit; s4 true c 0.4 rank 2 hit; all others rank 1 -> 6/6.
  EXPECT_DOUBLE_EQ(r.topKAccuracy, 1.0);
  const double loss = -(std::log(0.7) + std::log(0.3) + std::log(0.8) + std::log(0.5) +
                        std::log(0.4) + std::log(0.7)) /
                      6;
  EXPECT_NEAR(r.loss, loss, 1e-6);
  ASSERT_EQ(r.predictions.size(), 6u);
  EXPECT_EQ(r.predictions[4].sample, 14u);
  EXPECT_EQ(r.predictions[4].predicted, 0);
  EXPECT_FLOAT_EQ(r.predictions[4].probability, 0.5f);
  EXPECT_FLOAT_EQ(r.predictions[4].trueProbability, 0.4f);
}

TEST(Metrics, ClassNeverPredictedHasZeroPrecision) {
  const auto r = computeMetrics({"x", "y"}, {0.9f, 0.1f, 0.8f, 0.2f}, {0, 1}, {0, 1}, 1);
  EXPECT_DOUBLE_EQ(r.perClass[1].precision, 0.0);
  EXPECT_DOUBLE_EQ(r.perClass[1].recall, 0.0);
  EXPECT_DOUBLE_EQ(r.macroF1, (2.0 / 3.0 + 0.0) / 2.0);
}

TEST(Metrics, JsonAndCsvExports) {
  const auto r = handCase();
  const auto j = metricsJson(r);
  EXPECT_EQ(j["classes"], nlohmann::json::array({"a", "b", "c"}));
  EXPECT_EQ(j["confusion_matrix"][2][0], 1);
  EXPECT_EQ(confusionCsv(r),
            "true\\predicted,\"a\",\"b\",\"c\"\n\"a\",1,1,0\n\"b\",0,2,0\n\"c\",1,0,1\n");
}

}  // namespace
}  // namespace tlab::core
