#include "ui/DatasetController.h"

#include <gtest/gtest.h>

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

TEST(DatasetController, ANewOpenSupersedesTheRunningOne) {
  TempDir first, second;
  makeFolder(first, 200);
  makeFolder(second, 3);
  DatasetController controller;
  QSignalSpy loaded(&controller, &DatasetController::loaded);
  controller.open(QString::fromStdString(first.path().string()));
  controller.open(QString::fromStdString(second.path().string()));
  ASSERT_TRUE(loaded.wait(20000));
  QTest::qWait(50);
  ASSERT_EQ(loaded.count(), 1);
  EXPECT_EQ(loaded.at(0).at(0).value<std::shared_ptr<const core::Dataset>>()->size(), 6u);
}

TEST(DatasetController, DestroyingWhileBusyCancelsAndJoins) {
  TempDir dir;
  makeFolder(dir, 300);
  auto controller = std::make_unique<DatasetController>();
  controller->open(QString::fromStdString(dir.path().string()));
  controller.reset();  // must return promptly without crashing
  SUCCEED();
}

}  // namespace
}  // namespace tlab::ui
