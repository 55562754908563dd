#include "ui/controllers/DatasetController.h"

#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include "core/TestImages.h"

namespace tlab::ui {
namespace {
using test::TempDir;

void makeFolder(const TempDir& dir, int perClass) {
  for (int i = 0; i < perClass; ++i) {
    test::writeImage(dir / ("train/a/" + std::to_string(i) + ".png"), test::patternRgb(16, 16, i));
    test::writeImage(dir / ("train/b/" + std::to_string(i) + ".jpg"), test::patternRgb(16, 16, i));
  }
  test::writeText(dir / "train/b/broken.jpg", "not a jpeg");
}

TEST(DatasetController, LoadsInTheBackgroundAndEmitsLoaded) {
  TempDir dir;
  makeFolder(dir, 5);
  DatasetController controller;
  QSignalSpy started(&controller, &DatasetController::started);
  QSignalSpy loaded(&controller, &DatasetController::loaded);
  QSignalSpy failed(&controller, &DatasetController::failed);
  controller.open(QString::fromStdString(dir.path().string()));
  EXPECT_EQ(started.count(), 1);
  ASSERT_TRUE(loaded.wait(20000));
  EXPECT_EQ(failed.count(), 0);
  const auto ds = loaded.at(0).at(0).value<std::shared_ptr<const core::Dataset>>();
  ASSERT_TRUE(ds);
  EXPECT_EQ(ds->size(), 10u);
  ASSERT_EQ(ds->skipped.size(), 1u);
  EXPECT_NE(ds->skipped[0].path.find("broken.jpg"), std::string::npos);
  EXPECT_EQ(controller.dataset(), ds);
  EXPECT_FALSE(controller.isBusy());
}

TEST(DatasetController, ReportsErrorsAsMessages) {
  DatasetController controller;
  QSignalSpy failed(&controller, &DatasetController::failed);
  controller.open(QStringLiteral("/no/such/dataset/anywhere"));
  ASSERT_TRUE(failed.wait(10000));
  EXPECT_TRUE(failed.at(0).at(0).toString().contains(QStringLiteral("/no/such/dataset/anywhere")));
}

// The application's synchronizer, current for one test (MainWindow holds it in the app).
struct CurrentSynchronizer {
  FutureSynchronizer sync;
  CurrentSynchronizer() { FutureSynchronizer::setCurrent(&sync); }
  ~CurrentSynchronizer() { FutureSynchronizer::setCurrent(nullptr); }
};

TEST(DatasetController, ANewOpenSupersedesTheRunningOne) {
  TempDir first, second;
  makeFolder(first, 200);
  makeFolder(second, 3);
  CurrentSynchronizer current;
  DatasetController controller;
  QSignalSpy loaded(&controller, &DatasetController::loaded);
  controller.open(QString::fromStdString(first.path().string()));
  controller.open(QString::fromStdString(second.path().string()));
  ASSERT_TRUE(loaded.wait(20000));
  // The superseded load has ended too, and its result was never delivered.
  ASSERT_TRUE(QTest::qWaitFor([&] { return current.sync.pending() == 0; }, 20000));
  QCoreApplication::processEvents();
  ASSERT_EQ(loaded.count(), 1);
  EXPECT_EQ(loaded.at(0).at(0).value<std::shared_ptr<const core::Dataset>>()->size(), 6u);
}

TEST(DatasetController, ACancelledScanReportsCancelledAtOnceAndStopsWithinASecond) {
  TempDir dir;
  makeFolder(dir, 600);  // 1,201 images to list and verify
  CurrentSynchronizer current;
  DatasetController controller;
  QSignalSpy failed(&controller, &DatasetController::failed);
  QSignalSpy loaded(&controller, &DatasetController::loaded);
  controller.open(QString::fromStdString(dir.path().string()));
  controller.cancel();
  ASSERT_EQ(failed.count(), 1);
  EXPECT_EQ(failed.at(0).at(0).toString(), "Cancelled");
  EXPECT_FALSE(controller.isBusy());
  QElapsedTimer clock;
  clock.start();
  ASSERT_TRUE(QTest::qWaitFor([&] { return current.sync.pending() == 0; }, 20000));
  EXPECT_LT(clock.elapsed(), 1000) << "the readers and the verifier check the flag per file";
  QCoreApplication::processEvents();
  EXPECT_EQ(loaded.count(), 0);
}

TEST(DatasetController, DestroyingWhileBusyHandsTheScanToTheSynchronizer) {
  TempDir dir;
  makeFolder(dir, 300);
  CurrentSynchronizer current;
  auto controller = std::make_unique<DatasetController>();
  controller->open(QString::fromStdString(dir.path().string()));
  QElapsedTimer clock;
  clock.start();
  controller.reset();
  EXPECT_LT(clock.elapsed(), 500) << "the GUI thread does not wait for the scan";
  ASSERT_TRUE(QTest::qWaitFor([&] { return current.sync.pending() == 0; }, 5000))
      << "the cancelled scan stopped";
}

TEST(DatasetController, WithoutASynchronizerDestroyingWaitsForTheScan) {
  TempDir dir;
  makeFolder(dir, 300);
  auto controller = std::make_unique<DatasetController>();
  controller->open(QString::fromStdString(dir.path().string()));
  controller.reset();  // cancels and waits: nothing may outlive the controller
  EXPECT_EQ(FutureSynchronizer::current(), nullptr);
}

}  // namespace
}  // namespace tlab::ui
