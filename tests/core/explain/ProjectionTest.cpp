// PCA, UMAP and the k-NN accuracy figure, checked on data whose answer is known by hand.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/Errors.h"
#include "core/explain/Projection.h"

using namespace tlab::core;

TEST(Pca, FindsTheDirectionOfMostVariance) {
  // Points on the line y = 2x (plus a tiny orthogonal wiggle): the first axis is (1, 2) / sqrt 5.
  std::vector<float> data;
  for (int i = 0; i < 11; ++i) {
    const float t = float(i - 5);
    const float wiggle = (i % 2 ? 0.01f : -0.01f);
    data.push_back(t - 2 * wiggle);
    data.push_back(2 * t + wiggle);
  }
  const auto x = torch::from_blob(data.data(), {11, 2}, torch::kFloat).clone() + 3.0;
  const auto p = pcaProjection(x, 2);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{11, 2}));
  // Coordinate along the axis: t * sqrt(5) (sign: the largest loading, y's, is positive);
  // along the second, the centred wiggle (mean -0.01 / 11) times sqrt(5).
  for (int i = 0; i < 11; ++i) {
    EXPECT_NEAR(p[i][0].item<float>(), (i - 5) * std::sqrt(5.0f), 1e-3) << i;
    const float wiggle = (i % 2 ? 0.01f : -0.01f) + 0.01f / 11;
    EXPECT_NEAR(std::abs(p[i][1].item<float>()), std::abs(wiggle) * std::sqrt(5.0f), 1e-4) << i;
  }
  // More dimensions than points works too (the SVD path), with the same first axis.
  const auto wide = torch::cat({x, torch::zeros({11, 20})}, 1);
  EXPECT_LT((pcaProjection(wide, 2).select(1, 0) - p.select(1, 0)).abs().max().item<float>(), 1e-3);
}

TEST(Knn, AccuracyByHand) {
  // 1-D points: labels 0 0 0 1 1 1, with the fourth point sitting among the zeros.
  const auto x = torch::tensor({0.0f, 0.1f, 0.2f, 0.15f, 10.0f, 10.1f}).view({6, 1});
  const std::vector<int64_t> labels{0, 0, 0, 1, 1, 1};
  // k = 1: point 3's nearest (0.1 or 0.2, both class 0) is wrong, and so are those of points
  // 1 and 2 (0.15, class 1); points 0, 4 and 5 are right -> 3 / 6.
  EXPECT_NEAR(knnAccuracy(x, labels, 1), 3.0 / 6.0, 1e-12);
  // k = 3: point 3 votes 0,0,0 -> wrong; point 1: 0.15(1), 0.0(0), 0.2(0) -> 0, right;
  // point 2: 0.15(1), 0.1(0), 0.0(0) -> 0, right;
  // point 4 (10.0): 10.1(1), 0.2(0), 0.15(1) -> 1 right; point 5 likewise; 0, 1 right -> 5 / 6.
  EXPECT_NEAR(knnAccuracy(x, labels, 3), 5.0 / 6.0, 1e-12);
  // A seeded subset of queries is a subset: its accuracy is one of the per-point outcomes.
  const double sub = knnAccuracy(x, labels, 1, 3, 7);
  EXPECT_TRUE(std::abs(sub * 3 - std::round(sub * 3)) < 1e-9);
  EXPECT_THROW(knnAccuracy(x, {0, 1}, 1), InvalidArgument);
}

TEST(Umap, CurveMatchesThePublishedFit) {
  // umap-learn's find_ab_params(1.0, 0.1) gives a = 1.577, b = 0.895.
  const auto [a, b] = umapCurve(0.1);
  EXPECT_NEAR(a, 1.577, 0.02);
  EXPECT_NEAR(b, 0.895, 0.01);
}

TEST(Umap, SeparatesClustersAndIsReproducible) {
  // Three well-separated Gaussian clusters in 30 dimensions, 150 points each.
  torch::manual_seed(11);
  const auto centres = torch::randn({3, 30}) * 6;
  std::vector<torch::Tensor> parts;
  std::vector<int64_t> labels;
  for (int c = 0; c < 3; ++c) {
    parts.push_back(centres[c] + torch::randn({150, 30}));
    labels.insert(labels.end(), 150, c);
  }
  const auto x = torch::cat(parts);
  std::vector<std::string> stages;
  UmapOptions o;
  o.seed = 5;
  o.epochs = 200;
  o.progress = [&](const std::string& stage, int64_t done, int64_t total) {
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
    EXPECT_LE(done, total);
  };
  const auto y = umapProjection(x, o);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{450, 2}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  EXPECT_EQ(stages, (std::vector<std::string>{"neighbours", "layout"}));
  EXPECT_GE(knnAccuracy(y, labels, 5), 0.97);
  EXPECT_TRUE(torch::equal(y, umapProjection(x, o)));  // same seed, same map
  o.seed = 6;
  EXPECT_FALSE(torch::equal(y, umapProjection(x, o)));
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  EXPECT_THROW(umapProjection(x, o), Cancelled);
}

TEST(Neighbours, ExactOnAGrid) {
  // Points 0, 1, 3, 7 on a line: neighbours by hand.
  const auto x = torch::tensor({0.0f, 1.0f, 3.0f, 7.0f}).view({4, 1});
  torch::Tensor idx, dist;
  nearestNeighbours(x, 2, idx, dist);
  EXPECT_EQ(idx[0][0].item<int64_t>(), 1);
  EXPECT_EQ(idx[0][1].item<int64_t>(), 2);
  EXPECT_EQ(idx[3][0].item<int64_t>(), 2);
  EXPECT_NEAR(dist[3][1].item<float>(), 6.0f, 1e-5);
  EXPECT_NEAR(dist[2][0].item<float>(), 2.0f, 1e-5);
}
