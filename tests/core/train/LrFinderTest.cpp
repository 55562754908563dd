#include "core/train/LrFinder.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tlab::core {
namespace {

TEST(LrFinder, SuggestsTheSteepestDescentBeforeTheMinimum) {
  // Loss flat, then falling fastest around lr = 1e-3, minimum at 1e-2, then diverging.
  std::vector<double> lrs, loss;
  for (int i = 0; i <= 60; ++i) {
    const double lr = std::pow(10.0, -6 + i * 0.1);
    lrs.push_back(lr);
    const double x = std::log10(lr);
    loss.push_back(x < -2 ? 2.0 - 1.5 / (1 + std::exp(-4 * (x + 3))) : 0.5 + (x + 2) * 3);
  }
  const double s = suggestLearningRate(lrs, loss);
  EXPECT_NEAR(std::log10(s), -3.0, 0.15);
}

TEST(LrFinder, FallsBackWhenTheLossNeverFalls) {
  std::vector<double> lrs = {1e-5, 1e-4, 1e-3, 1e-2}, loss = {1.0, 1.1, 1.2, 1.5};
  EXPECT_DOUBLE_EQ(suggestLearningRate(lrs, loss), 1e-6);  // lr at the minimum / 10
}

}  // namespace
}  // namespace tlab::core
