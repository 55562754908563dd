#include "ui/controllers/TrainController.h"

#include <gtest/gtest.h>

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include "cli/ShapesDataset.h"
#include "core/TextFixtures.h"
#include "core/dataset/Readers.h"

namespace tlab::ui {
namespace {

core::RunRecord textRun(const std::string& id, core::Strategy s, int epochs) {
  core::RunRecord r;
  r.id = id;
  r.config.backbone = "tiny_bert";
  r.config.strategy = s;
  r.config.epochs = epochs;
  r.config.batchSize = 8;
  r.config.lr = 3e-3;
  r.config.featureCache = false;
  r.config.checkpointEvery = 0;
  return r;
}

TEST(TrainController, QueuedRunsStreamThrottledPointsAndFinishInOrder) {
  test::TinyTextCatalog catalog;
  const auto data = test::topicTexts(16);  // 48 training texts: 6 steps of 8 per epoch
  TrainController c;
  QSignalSpy started(&c, &TrainController::runStarted);
  QSignalSpy points(&c, &TrainController::batchPoints);
  QSignalSpy epochs(&c, &TrainController::epochFinished);
  QSignalSpy progress(&c, &TrainController::progressed);
  QSignalSpy finished(&c, &TrainController::runFinished);
  c.enqueue(textRun("run-1", core::Strategy::Full, 3), data);
  c.enqueue(textRun("run-2", core::Strategy::Scratch, 2), data);  // the "from scratch" twin
  EXPECT_TRUE(c.isRunning());
  EXPECT_EQ(c.queuedRuns(), 1);
  EXPECT_EQ(c.currentRunId(), "run-1");
  ASSERT_TRUE(QTest::qWaitFor([&] { return finished.count() >= 2; }, 30000));
  ASSERT_EQ(finished.count(), 2);
  EXPECT_FALSE(c.isRunning());
  ASSERT_EQ(started.count(), 2);
  EXPECT_EQ(started.at(1).at(0).toString(), "run-2");
  const auto first = finished.at(0).at(0).value<core::RunRecord>();
  const auto second = finished.at(1).at(0).value<core::RunRecord>();
  EXPECT_EQ(first.id, "run-1");
  EXPECT_EQ(first.status, core::RunStatus::Finished) << first.error;
  EXPECT_EQ(first.history.size(), 3u);
  ASSERT_TRUE(first.testAccuracy.has_value());
  EXPECT_EQ(second.id, "run-2");
  EXPECT_EQ(second.history.size(), 2u);
  EXPECT_EQ(epochs.count(), 5);
  // Every step arrives once, in batches: never more signals than timer drains.
  int total = 0;
  for (const auto& args : points) total += args.at(1).value<QVector<BatchPoint>>().size();
  EXPECT_EQ(total, 5 * 6);
  EXPECT_LE(points.count(), c.drains());
  const auto last = progress.last().at(1).value<TrainProgress>();
  EXPECT_EQ(last.totalSteps, 12);
  EXPECT_EQ(last.step, 12);
  ASSERT_TRUE(c.lastResult());
  EXPECT_EQ(c.lastResult()->test->confusion.size(), 3u);
  EXPECT_TRUE(c.lastModel());
}

TEST(TrainController, PauseHoldsAndStopCancelsAndDropsTheQueue) {
  test::TinyTextCatalog catalog;
  const auto data = test::topicTexts(200);
  TrainController c;
  QSignalSpy points(&c, &TrainController::batchPoints);
  QSignalSpy finished(&c, &TrainController::runFinished);
  QSignalSpy states(&c, &TrainController::stateChanged);
  c.enqueue(textRun("run-1", core::Strategy::Full, 200), data);
  c.enqueue(textRun("run-2", core::Strategy::Full, 1), data);
  ASSERT_TRUE(points.wait(20000));
  c.pause();
  EXPECT_TRUE(c.isPaused());
  auto pausedReported = [&] {
    for (const auto& args : states)
      if (args.at(1).value<core::RunState>() == core::RunState::Paused) return true;
    return false;
  };
  // The trainer reports Paused once it waits; every step before it was drained with it.
  ASSERT_TRUE(QTest::qWaitFor(pausedReported, 20000));
  const int before = points.count();
  const qint64 drains = c.drains();
  ASSERT_TRUE(QTest::qWaitFor([&] { return c.drains() >= drains + 5; }, 5000));
  EXPECT_EQ(points.count(), before) << "no steps in five drains while paused";
  c.resume();
  ASSERT_TRUE(points.wait(20000));
  c.stop();
  ASSERT_TRUE(finished.wait(20000));
  // Had the queue survived, finishing run-1 would have started run-2 at once.
  EXPECT_FALSE(c.isRunning()) << "the queued run was dropped";
  EXPECT_EQ(c.queuedRuns(), 0);
  ASSERT_EQ(finished.count(), 1);
  EXPECT_EQ(finished.at(0).at(0).value<core::RunRecord>().status, core::RunStatus::Cancelled);
  EXPECT_FALSE(c.isRunning());
}

TEST(TrainController, DestroyingTheControllerMidRunCancelsAndJoins) {
  test::TinyTextCatalog catalog;
  auto c = std::make_unique<TrainController>();
  QSignalSpy points(c.get(), &TrainController::batchPoints);
  c->enqueue(textRun("run-1", core::Strategy::Full, 500), test::topicTexts(200));
  ASSERT_TRUE(points.wait(20000));
  QElapsedTimer clock;
  clock.start();
  c.reset();  // cancels and joins the trainer thread
  // The trainer checks the cancel flag between steps (a few ms each here): well under 5 s.
  EXPECT_LT(clock.elapsed(), 5000);
}

// Processes = 2: this process trains as rank 0 and a transferlab-cli child as rank 1.
TEST(TrainController, TwoProcessesTrainOneRunWithAChildRank) {
  if (!core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  qputenv("TLAB_CLI_PATH", TLAB_CLI_PATH);
  test::TempDir dir;
  core::Project project;
  project.dataset.path = test::makeShapesDataset(dir).string();
  auto source = std::make_shared<core::Dataset>(
      core::openDataset(project.dataset.path, core::readOptions(project.dataset)));
  core::RunRecord run;
  run.id = "run-1";
  run.folder = (dir / "run-1").string();
  run.config = core::withStrategyDefaults(run.config, core::Strategy::Full);
  run.config.backbone = "small_cnn_fmnist";
  run.config.epochs = 2;
  run.config.batchSize = 8;
  TrainController c;
  c.setProcesses(2);
  QSignalSpy finished(&c, &TrainController::runFinished);
  QSignalSpy logged(&c, &TrainController::logged);
  c.prepareAndEnqueue({run}, source, project);
  ASSERT_TRUE(QTest::qWaitFor([&] { return finished.count() >= 1; }, 180000));
  QStringList log;
  auto collect = [&] {
    log.clear();
    for (const auto& args : logged) log << args.at(1).toStringList();
    return log.join('\n');
  };
  // The child rank reports its own end shortly after rank 0's.
  EXPECT_TRUE(QTest::qWaitFor([&] { return collect().contains("[rank 1] finished"); }, 20000))
      << collect().toStdString();
  EXPECT_TRUE(collect().contains("[rank 1] started")) << collect().toStdString();
  const auto record = finished.at(0).at(0).value<core::RunRecord>();
  EXPECT_EQ(record.status, core::RunStatus::Finished)
      << record.error << log.join('\n').toStdString();
  EXPECT_EQ(record.history.size(), 2u);
  EXPECT_TRUE(record.testAccuracy.has_value());
  EXPECT_TRUE(log.join('\n').contains("training on 2 processes")) << log.join('\n').toStdString();
  EXPECT_TRUE(log.join('\n').contains("all 2 ranks joined")) << log.join('\n').toStdString();
  EXPECT_TRUE(std::filesystem::exists(dir / "run-1" / "ranks" / "project.tlproj"));
  EXPECT_EQ(c.processes(), 2);
}

}  // namespace
}  // namespace tlab::ui
