#include "ui/controllers/TrainController.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <fstream>
#include <iterator>

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

// A full fine-tune of the small CNN on a generated project, for runs on several processes (the
// other ranks: the real transferlab-cli).
struct ProjectRun {
  ProjectRun(int epochs, int64_t batchSize) {
    qputenv("TLAB_CLI_PATH", TLAB_CLI_PATH);
    project.dataset.path = test::makeShapesDataset(dir).string();
    source = std::make_shared<core::Dataset>(
        core::openDataset(project.dataset.path, core::readOptions(project.dataset)));
    run.id = "run-1";
    run.folder = (dir / "run-1").string();
    run.config = core::withStrategyDefaults(run.config, core::Strategy::Full);
    run.config.backbone = "small_cnn_fmnist";
    run.config.epochs = epochs;
    run.config.batchSize = batchSize;
  }
  test::TempDir dir;
  core::Project project;
  std::shared_ptr<core::Dataset> source;
  core::RunRecord run;
};

// Processes = 2: this process trains as rank 0 and a transferlab-cli child as rank 1.
TEST(TrainController, TwoProcessesTrainOneRunWithAChildRank) {
  if (!core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  ProjectRun r(2, 8);
  const core::RunRecord& run = r.run;
  TrainController c;
  c.setProcesses(2);
  QSignalSpy finished(&c, &TrainController::runFinished);
  QSignalSpy logged(&c, &TrainController::logged);
  c.prepareAndEnqueue({run}, r.source, r.project);
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
  EXPECT_TRUE(std::filesystem::exists(r.dir / "run-1" / "ranks" / "project.tlproj"));
  EXPECT_EQ(c.processes(), 2);
}

// The processes whose command line names `text` (the other ranks name their run folder).
std::vector<pid_t> processesNaming(const std::string& text) {
  std::vector<pid_t> pids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline");
    const std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd.find(text) != std::string::npos) pids.push_back(pid_t(std::stoi(name)));
  }
  return pids;
}

// Closing the window mid-run: the controller ends its child ranks and its own trainer promptly.
TEST(TrainController, DestroyingTheControllerMidMultiProcessRunEndsItsRanks) {
  if (!core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  ProjectRun r(200, 4);
  const core::RunRecord& run = r.run;
  auto c = std::make_unique<TrainController>();
  c->setProcesses(2);
  QSignalSpy points(c.get(), &TrainController::batchPoints);
  c->prepareAndEnqueue({run}, r.source, r.project);
  ASSERT_TRUE(QTest::qWaitFor([&] { return points.count() > 0; }, 120000));
  const auto ranks = processesNaming(run.folder);
  ASSERT_EQ(ranks.size(), 1u) << "rank 1 runs";
  // Rank 1 hangs (stopped): rank 0 soon waits for it in a collective, which only a closed
  // socket or the 600 s timeout would end.
  ASSERT_EQ(kill(ranks[0], SIGSTOP), 0);
  QTest::qWait(500);
  QElapsedTimer t;
  t.start();
  c.reset();
  EXPECT_LT(t.elapsed(), 15000);
  EXPECT_TRUE(QTest::qWaitFor([&] { return processesNaming(run.folder).empty(); }, 10000));
}

}  // namespace
}  // namespace tlab::ui
