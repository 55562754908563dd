// ProgressTracker: what runs, how far, and the time left, reported from a worker thread and read on
// the GUI thread.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "ui/workers/ProgressTracker.h"

namespace tlab::ui {
namespace {

TEST(ProgressTracker, EstimateFromElapsedTimeAndFraction) {
  // A quarter done in 10 s: three quarters left at that pace, 30 s.
  EXPECT_DOUBLE_EQ(ProgressTracker::secondsLeft(10, 0.25), 30);
  EXPECT_DOUBLE_EQ(ProgressTracker::secondsLeft(4, 0.8), 1);
  EXPECT_EQ(ProgressTracker::secondsLeft(10, 0), -1);  // nothing done: no pace yet
  EXPECT_EQ(ProgressTracker::secondsLeft(10, 1), -1);  // all done

  ProgressTracker::Reading r;
  EXPECT_EQ(r.eta(), QString());
  r.secondsLeft = 12.4;
  EXPECT_EQ(r.eta(), QStringLiteral("12 s left"));
  r.secondsLeft = 0.2;
  EXPECT_EQ(r.eta(), QStringLiteral("1 s left"));
  r.secondsLeft = 150;
  EXPECT_EQ(r.eta(), QStringLiteral("3 min left"));
  r.secondsLeft = 3900;
  EXPECT_EQ(r.eta(), QStringLiteral("1 h 5 min left"));
}

TEST(ProgressTracker, ReportsFromAnotherThreadAndRestartsTheClockPerStage) {
  ProgressTracker p;
  EXPECT_TRUE(p.read().stage.isEmpty());
  std::thread worker([&] { p.report("features", 30, 120); });
  worker.join();
  auto r = p.read();
  EXPECT_EQ(r.stage, QStringLiteral("features"));
  EXPECT_EQ(r.done, 30u);
  EXPECT_EQ(r.total, 120u);
  EXPECT_DOUBLE_EQ(r.fraction, 0.25);
  EXPECT_GE(r.secondsLeft, 0);

  // 40 ms into a first stage, a second begins: per stage, its estimate starts from its own
  // (near zero) elapsed time; across the task, from the first report.
  ProgressTracker perStage, whole(/*clockPerStage=*/false);
  perStage.report("a", 0, 2);
  whole.report("a", 0, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  perStage.report("b", 1, 2);
  whole.report("b", 1, 2);
  EXPECT_LT(perStage.read().secondsLeft, 0.02);
  EXPECT_GE(whole.read().secondsLeft, 0.04);  // half done in >= 40 ms: >= 40 ms left

  whole.reset();
  EXPECT_TRUE(whole.read().stage.isEmpty());
  EXPECT_EQ(whole.read().secondsLeft, -1);
}

}  // namespace
}  // namespace tlab::ui
