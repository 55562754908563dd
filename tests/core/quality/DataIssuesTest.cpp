// Confident learning, cross-validated probes, duplicates and outliers against hand-computed
// cases.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "core/Errors.h"
#include "core/quality/DataIssues.h"

namespace tlab::core {
namespace {

// Ten rows of three classes. Thresholds (mean self-probability per given class):
//   t0 = (0.6 + 0.4) / 2 = 0.5, t1 = (0.8 + 0.2 + 0.45 + 0.4) / 4 = 0.4625,
//   t2 = (0.8 + 0.1 + 0.49 + 0.2) / 4 = 0.3975.
const std::vector<float> kProbs{
    0.60f, 0.30f, 0.10f,  // r0 given 0: only 0 >= t0               -> [0][0]
    0.40f, 0.55f, 0.05f,  // r1 given 0: only 1 >= t1               -> [0][1] issue, score 0.6
    0.10f, 0.80f, 0.10f,  // r2 given 1: 1                          -> [1][1]
    0.70f, 0.20f, 0.10f,  // r3 given 1: 0                          -> [1][0] issue, score 0.8
    0.10f, 0.10f, 0.80f,  // r4 given 2: 2                          -> [2][2]
    0.52f, 0.38f, 0.10f,  // r5 given 2: 0                          -> [2][0] issue, score 0.9
    0.51f, 0.00f, 0.49f,  // r6 given 2: 0 and 2 above, 0 is larger -> [2][0] issue, score 0.51
    0.30f, 0.45f, 0.25f,  // r7 given 1: none above its threshold   -> not counted
    0.45f, 0.35f, 0.20f,  // r8 given 2: none above                 -> not counted
    0.35f, 0.40f, 0.25f,  // r9 given 1: none above                 -> not counted
};
const std::vector<int32_t> kLabels{0, 0, 1, 1, 2, 2, 2, 1, 2, 1};

TEST(DataIssuesTest, ConfidentJointOfThreeClassesByHand) {
  const auto cj = confidentJoint(kProbs, kLabels, 3);
  ASSERT_EQ(cj.thresholds.size(), 3u);
  EXPECT_NEAR(cj.thresholds[0], 0.5, 1e-6);
  EXPECT_NEAR(cj.thresholds[1], 0.4625, 1e-6);
  EXPECT_NEAR(cj.thresholds[2], 0.3975, 1e-6);
  const std::vector<std::vector<int64_t>> expected{{1, 1, 0}, {1, 1, 0}, {2, 0, 1}};
  EXPECT_EQ(cj.counts, expected);
  ASSERT_EQ(cj.issues.size(), 4u);
  // Most likely first: r5 (0.9), r3 (0.8), r1 (0.6), r6 (0.51).
  EXPECT_EQ(cj.issues[0].row, 5u);
  EXPECT_EQ(cj.issues[1].row, 3u);
  EXPECT_EQ(cj.issues[2].row, 1u);
  EXPECT_EQ(cj.issues[3].row, 6u);
  EXPECT_NEAR(cj.issues[0].score, 0.9, 1e-6);
  EXPECT_EQ(cj.issues[0].given, 2);
  EXPECT_EQ(cj.issues[0].suggested, 0);
  EXPECT_EQ(cj.issues[2].suggested, 1);
  EXPECT_NEAR(cj.issues[2].suggestedProbability, 0.55, 1e-6);
  EXPECT_NEAR(cj.issues[3].givenProbability, 0.49, 1e-6);
}

TEST(DataIssuesTest, ReportedIssuesAreTheLeastSelfConfidentByHand) {
  // The joint has 4 rows off its diagonal: 4 issues. Rows whose most probable class is another
  // than their label, by p(given): r5 0.1, r3 0.2, r8 0.2, r1 0.4, r6 0.49. So r8 (below every
  // threshold, not in the joint) is reported and r6 is not. r8 suggests its most probable class.
  const auto issues = findLabelIssues(kProbs, kLabels, 3);
  std::vector<size_t> rows;
  for (const auto& i : issues.issues) rows.push_back(i.row);
  EXPECT_EQ(rows, (std::vector<size_t>{5, 3, 8, 1}));
  EXPECT_EQ(issues.issues[2].suggested, 0);
  EXPECT_NEAR(issues.issues[2].score, 0.8, 1e-6);
  EXPECT_EQ(issues.issues[3].suggested, 1);  // r1: the joint's class
  EXPECT_EQ(issues.counts, confidentJoint(kProbs, kLabels, 3).counts);
}

TEST(DataIssuesTest, ConfidentJointRejectsBadShapes) {
  EXPECT_THROW(confidentJoint({0.5f, 0.5f}, {0, 1}, 2), InvalidArgument);
  EXPECT_THROW(confidentJoint({0.5f, 0.5f}, {2}, 2), InvalidArgument);
  EXPECT_THROW(confidentJoint({1.f}, {0}, 1), InvalidArgument);
}

TEST(DataIssuesTest, FoldsAreStratifiedAndSeeded) {
  std::vector<int32_t> labels;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 10; ++i) labels.push_back(k);
  const auto a = stratifiedFolds(labels, 5, 7), b = stratifiedFolds(labels, 5, 7),
             c = stratifiedFolds(labels, 5, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (int f = 0; f < 5; ++f)
    for (int k = 0; k < 3; ++k) {
      int n = 0;
      for (size_t r = 0; r < labels.size(); ++r) n += (labels[r] == k && a[r] == f) ? 1 : 0;
      EXPECT_EQ(n, 2) << "fold " << f << " class " << k;
    }
  EXPECT_EQ(effectiveFolds({0, 0, 0, 1, 1}, 5), 2);
  EXPECT_EQ(effectiveFolds({0, 0, 0, 1, 1, 1}, 5), 3);
  EXPECT_THROW(stratifiedFolds(labels, 1, 0), InvalidArgument);
}

TEST(DataIssuesTest, CrossValidatedProbesFindFlippedLabelsInSeparableClusters) {
  // Three well-separated Gaussian clusters of 40 points in 8 dimensions (centres 14 standard
  // deviations apart); 6 labels flipped. (A weakly regularised probe, L2 1e-3, fits the flips
  // through the noise dimensions and points at a clean row instead: the default is strong.)
  torch::manual_seed(3);
  const int64_t perClass = 40, dim = 8;
  auto centres = torch::eye(3, dim) * 10.0;
  std::vector<torch::Tensor> rows;
  std::vector<int32_t> labels;
  for (int k = 0; k < 3; ++k) {
    rows.push_back(centres[k].unsqueeze(0) + torch::randn({perClass, dim}));
    for (int i = 0; i < perClass; ++i) labels.push_back(k);
  }
  const auto x = torch::cat(rows);
  const std::set<size_t> flipped{3, 17, 45, 70, 90, 111};
  for (size_t r : flipped) labels[r] = (labels[r] + 1) % 3;
  const auto p = crossValidatedProbabilities(x, labels, 3);
  ASSERT_EQ(p.size(), labels.size() * 3);
  for (size_t r = 0; r < labels.size(); ++r) {
    const float s = p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2];
    EXPECT_NEAR(s, 1.0f, 1e-4);
  }
  const auto cj = findLabelIssues(p, labels, 3);
  std::set<size_t> found;
  for (const auto& i : cj.issues) found.insert(i.row);
  EXPECT_EQ(found, flipped);
  for (const auto& i : cj.issues) EXPECT_EQ(i.suggested, (i.given + 2) % 3);  // the true class
  // Seeded: the same probabilities again. The penalty was chosen by log loss from the grid.
  EXPECT_EQ(crossValidatedProbabilities(x, labels, 3), p);
  const auto cv = crossValidate(x, labels, 3);
  EXPECT_EQ(cv.probabilities, p);
  EXPECT_EQ(cv.folds, 5);
  EXPECT_NEAR(cv.accuracy, 114.0 / 120, 1e-9);  // every clean row right, every flipped one not
  EXPECT_NE(std::find(std::begin(kWeightDecayGrid), std::end(kWeightDecayGrid), cv.weightDecay),
            std::end(kWeightDecayGrid));
  // A fixed penalty is used as given.
  ProbeOptions fixed;
  fixed.weightDecay = 0.5;
  EXPECT_EQ(crossValidate(x, labels, 3, fixed).weightDecay, 0.5);
  // A probe trained on all rows predicts the cluster of new points.
  const auto q = probeProbabilities(x, labels, centres, 3);
  for (int k = 0; k < 3; ++k) EXPECT_GT(q[size_t(k) * 3 + size_t(k)], 0.9f);
}

TEST(DataIssuesTest, NearDuplicatesByHand) {
  const auto a = torch::tensor({1.f, 0.f, 0.f, 1.f}).view({2, 2});
  const auto b = torch::tensor({2.f, 0.f, 1.f, 1.f, 0.f, -1.f}).view({3, 2});
  const auto pairs = nearDuplicates(a, b, 0.7);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].a, 0u);
  EXPECT_EQ(pairs[0].b, 0u);
  EXPECT_NEAR(pairs[0].similarity, 1.0, 1e-6);
  EXPECT_NEAR(pairs[1].similarity, std::sqrt(0.5), 1e-6);
  EXPECT_EQ(nearDuplicates(a, b, 0.99).size(), 1u);
  // Within one set only a < b, never a row with itself.
  const auto same = nearDuplicates(b, b, 0.7, true);
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(same[0].a, 0u);
  EXPECT_EQ(same[0].b, 1u);
  EXPECT_THROW(nearDuplicates(a, torch::ones({2, 3}), 0.9), InvalidArgument);
}

TEST(DataIssuesTest, OutlierScoresAndFenceByHand) {
  // Directions at 0, 0.1 and 0.2 rad, and one at pi/2. k = 1: cosine distance to the nearest.
  const auto x = torch::tensor({1.f, 0.f, std::cos(0.1f), std::sin(0.1f), std::cos(0.2f),
                                std::sin(0.2f), 0.f, 1.f})
                     .view({4, 2});
  const auto s = outlierScores(x, 1);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_NEAR(s[0], 1 - std::cos(0.1), 1e-6);
  EXPECT_NEAR(s[1], 1 - std::cos(0.1), 1e-6);
  EXPECT_NEAR(s[3], 1 - std::cos(M_PI / 2 - 0.2), 1e-6);
  // Quartiles of {1, 2, 3, 4, 5}: 2 and 4, fence 4 + 3 * 2.
  EXPECT_DOUBLE_EQ(outlierFence({5, 1, 4, 2, 3}), 10.0);
  EXPECT_DOUBLE_EQ(outlierFence({}), 0.0);
}

}  // namespace
}  // namespace tlab::core
