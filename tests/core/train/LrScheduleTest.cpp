#include "core/train/LrSchedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/Errors.h"

namespace tlab::core {
namespace {

TEST(LrSchedule, ConstantWithWarmup) {
  ScheduleSpec s{ScheduleKind::Constant, 0.1, 100, 4};
  EXPECT_DOUBLE_EQ(learningRateAt(s, 0), 0.025);  // (0 + 1) / 4 of the peak
  EXPECT_DOUBLE_EQ(learningRateAt(s, 3), 0.1);
  EXPECT_DOUBLE_EQ(learningRateAt(s, 50), 0.1);
}

TEST(LrSchedule, StepDecay) {
  ScheduleSpec s{ScheduleKind::Step, 1.0, 100, 0, 10, 0.5};
  EXPECT_DOUBLE_EQ(learningRateAt(s, 9), 1.0);
  EXPECT_DOUBLE_EQ(learningRateAt(s, 10), 0.5);
  EXPECT_DOUBLE_EQ(learningRateAt(s, 25), 0.25);
}

TEST(LrSchedule, CosineFromPeakToFloorAfterWarmup) {
  ScheduleSpec s{ScheduleKind::Cosine, 1.0, 110, 10};
  EXPECT_DOUBLE_EQ(learningRateAt(s, 10), 1.0);         // first step after warm-up
  EXPECT_NEAR(learningRateAt(s, 10 + 99), 0.0, 1e-12);  // last step
  EXPECT_NEAR(learningRateAt(s, 10 + 33), 0.5 * (1 + std::cos(M_PI / 3)),
              1e-12);  // t/(span-1) = 1/3
  s.minLrFraction = 0.1;
  EXPECT_NEAR(learningRateAt(s, 109), 0.1, 1e-12);
}

TEST(LrSchedule, OneCycleMatchesTorch) {
  // torch.optim.lr_scheduler.OneCycleLR(max_lr=0.1, total_steps=100) (pct_start 0.3,
  // div_factor 25, final_div_factor 1e4, cosine): rises over steps 0..29, then anneals.
  ScheduleSpec s;
  s.kind = ScheduleKind::OneCycle;
  s.baseLr = 0.1;
  s.totalSteps = 100;
  EXPECT_DOUBLE_EQ(learningRateAt(s, 0), 0.004);
  EXPECT_NEAR(learningRateAt(s, 29), 0.1, 1e-12);
  EXPECT_NEAR(learningRateAt(s, 99), 0.004 / 1e4, 1e-15);
  const double mid = 0.004 + (0.1 - 0.004) * 0.5 * (1 - std::cos(M_PI * 14.5 / 29.0));
  EXPECT_NEAR(learningRateAt(s, 14) + learningRateAt(s, 15), 2 * mid, 2e-3);
}

TEST(LrSchedule, Names) {
  EXPECT_EQ(parseSchedule("onecycle"), ScheduleKind::OneCycle);
  EXPECT_THROW(parseSchedule("linear"), InvalidArgument);
}

}  // namespace
}  // namespace tlab::core
