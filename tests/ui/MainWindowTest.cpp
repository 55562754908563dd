#include "ui/MainWindow.h"

#include <gtest/gtest.h>

#include <qcustomplot.h>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableWidget>

#include "core/TestImages.h"
#include "ui/ClassBalanceChart.h"
#include "ui/DatasetController.h"
#include "ui/DatasetPage.h"

namespace tlab::ui {
namespace {

TEST(MainWindow, OpeningADatasetFillsTheDataPage) {
  test::TempDir dir;
  for (int i = 0; i < 8; ++i)
    test::writeImage(dir / ("big/" + std::to_string(i) + ".png"), test::patternRgb(8, 8));
  test::writeImage(dir / "small/0.png", test::patternRgb(8, 8));
  test::writeImage(dir / "small/1.png", test::patternRgb(8, 8));
  test::writeBytes(dir / "small/empty.png", {});

  core::RuntimeReport runtime;
  runtime.blasKind = core::BlasKind::Reference;
  runtime.warnings = {"Slow BLAS in use"};
  MainWindow window(runtime);
  window.show();
  QSignalSpy loaded(window.datasetController(), &DatasetController::loaded);
  window.openDataset(QString::fromStdString(dir.path().string()));
  ASSERT_TRUE(loaded.wait(20000));

  DatasetPage* page = window.datasetPage();
  EXPECT_TRUE(page->summaryText().contains(QStringLiteral("10 samples in 2 classes")))
      << page->summaryText().toStdString();
  ASSERT_EQ(page->skippedTable()->rowCount(), 1);
  EXPECT_TRUE(page->skippedTable()->item(0, 0)->text().endsWith(QStringLiteral("empty.png")));
  EXPECT_TRUE(page->skippedTable()->item(0, 1)->text().contains(QStringLiteral("empty file")));
  EXPECT_DOUBLE_EQ(page->chart()->imbalanceRatio(), 4.0);
  EXPECT_EQ(page->chart()->plot()->plottableCount(), 1);  // one split: unassigned
  // The slow-BLAS warning is visible in the status bar.
  bool warned = false;
  for (auto* label : window.statusBar()->findChildren<QLabel*>()) {
    warned |= label->text().contains(QStringLiteral("Slow BLAS"));
  }
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace tlab::ui
