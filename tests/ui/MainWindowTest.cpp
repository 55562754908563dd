#include "ui/pages/MainWindow.h"

#include <gtest/gtest.h>

#include <qcustomplot.h>
#include <QComboBox>
#include <QLabel>
#include <QListView>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableWidget>
#include <QTest>
#include <QUndoStack>

#include "core/TestImages.h"
#include "core/report/PdfWriter.h"
#include "core/util/FileUtil.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/models/SampleModel.h"
#include "ui/pages/DatasetPage.h"
#include "ui/widgets/ClassBalanceChart.h"
#include "ui/widgets/SampleBrowser.h"

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
  // The chart shows the split training will use (val 0.1, test 0.1 of each class):
  // big 8 -> 6 train, 1 val, 1 test; small 2 -> 2 train.
  ASSERT_TRUE(QTest::qWaitFor([&] { return page->chart()->plot()->plottableCount() == 3; }, 5000));
  // Found by a new user: the legend sat over the last class's bar. It has its own column now.
  QCustomPlot* chart = page->chart()->plot();
  chart->replot();
  EXPECT_FALSE(chart->legend->outerRect().intersects(chart->axisRect()->rect()));
  // Found by a new user: the thumbnail grid left an empty band on the right; its columns now
  // share the whole width.
  QListView* grid = page->browser()->grid();
  window.resize(1280, 800);
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return grid->visualRect(grid->model()->index(0, 0)).isValid(); }, 5000));
  // Columns as laid out: the items of the first row (same top as item 0; 10 items fill it).
  const int top = grid->visualRect(grid->model()->index(0, 0)).top();
  int columns = 0, right = 0;
  for (int i = 0; i < grid->model()->rowCount(); ++i) {
    const QRect r = grid->visualRect(grid->model()->index(i, 0));
    if (r.top() != top) break;
    ++columns;
    right = r.right();
  }
  EXPECT_GE(columns, 1);
  EXPECT_LT(grid->viewport()->width() - right, grid->gridSize().width() / 2)
      << columns << " columns of " << grid->gridSize().width() << " px in "
      << grid->viewport()->width() << " px";
  auto* train = qobject_cast<QCPBars*>(page->chart()->plot()->plottable(0));
  auto* val = qobject_cast<QCPBars*>(page->chart()->plot()->plottable(1));
  ASSERT_TRUE(train && val);
  EXPECT_EQ(train->name(), QStringLiteral("train"));
  EXPECT_DOUBLE_EQ(train->data()->at(0)->value, 6);
  EXPECT_DOUBLE_EQ(train->data()->at(1)->value, 2);
  EXPECT_DOUBLE_EQ(val->data()->at(0)->value, 1);
  EXPECT_DOUBLE_EQ(page->chart()->imbalanceRatio(), 4.0);
  // The sample browser filters by that same split (the folder itself has none).
  QComboBox* splitFilter = page->browser()->splitFilter();
  splitFilter->setCurrentIndex(splitFilter->findData(int(core::Split::Val)));
  EXPECT_EQ(page->browser()->model()->rowCount(), 1);
  EXPECT_EQ(page->browser()->model()->index(0, SampleModel::kSplit).data().toString(),
            QStringLiteral("val"));
  splitFilter->setCurrentIndex(splitFilter->findData(int(core::Split::Train)));
  EXPECT_EQ(page->browser()->model()->rowCount(), 8);
  // Split settings are project edits: the chart follows them.
  core::DatasetSettings s = window.projectController()->project().dataset;
  s.valFraction = 0;
  window.projectController()->setDatasetSettings(s, QStringLiteral("no validation"));
  ASSERT_TRUE(QTest::qWaitFor([&] { return page->chart()->plot()->plottableCount() == 2; }, 5000))
      << "train and test";
  EXPECT_DOUBLE_EQ(
      qobject_cast<QCPBars*>(page->chart()->plot()->plottable(0))->data()->at(0)->value, 7);
  // The slow-BLAS warning is visible in the status bar.
  bool warned = false;
  for (auto* label : window.statusBar()->findChildren<QLabel*>()) {
    warned |= label->text().contains(QStringLiteral("Slow BLAS"));
  }
  EXPECT_TRUE(warned);
}

TEST(MainWindow, TheDatasetFollowsTheProjectSettingsThroughUndo) {
  test::TempDir dir;
  for (const char* c : {"a", "b"})
    test::writeImage(dir / (std::string("two/") + c + "/0.png"), test::patternRgb(8, 8));
  for (const char* c : {"a", "b", "c"})
    test::writeImage(dir / (std::string("three/") + c + "/0.png"), test::patternRgb(8, 8));
  MainWindow window(core::RuntimeReport{});
  QSignalSpy loaded(window.datasetController(), &DatasetController::loaded);
  window.openDataset(QString::fromStdString((dir / "two").string()));
  ASSERT_TRUE(loaded.wait(20000));
  ProjectController* project = window.projectController();
  core::DatasetSettings s = project->project().dataset;
  s.path = (dir / "three").string();
  s.format = "folder";
  project->setDatasetSettings(s, QStringLiteral("import dataset"));  // what Import's OK does
  ASSERT_TRUE(loaded.wait(20000));
  EXPECT_EQ(window.datasetController()->dataset()->numClasses(), 3u);
  project->undoStack()->undo();
  ASSERT_TRUE(loaded.wait(20000));
  EXPECT_EQ(window.datasetController()->dataset()->numClasses(), 2u);
  EXPECT_EQ(project->project().dataset.format, "auto");
  // A split-only change re-splits at training time; it does not re-read the files.
  s = project->project().dataset;
  s.valFraction = 0.3;
  project->setDatasetSettings(s, QStringLiteral("change split"));
  EXPECT_FALSE(loaded.wait(500));
  EXPECT_FALSE(window.datasetController()->isBusy());
}

}  // namespace
}  // namespace tlab::ui

#include <QTest>
#include <QTreeWidget>
#include <nlohmann/json.hpp>

#include "core/TextFixtures.h"
#include "ui/controllers/ProjectController.h"
#include "ui/controllers/TrainController.h"
#include "ui/pages/TrainPage.h"
#include "ui/widgets/TrainCharts.h"

namespace tlab::ui {
namespace {

std::filesystem::path writeTopics(const test::TempDir& dir, int n) {
  std::string lines;
  for (int i = 0; i < n; ++i) {
    lines += nlohmann::json{{"text", test::topicSentence(i)},
                            {"label", test::topicNames()[size_t(i % 3)]}}
                 .dump() +
             "\n";
  }
  test::writeText(dir / "topics.jsonl", lines);
  return dir / "topics.jsonl";
}

void useTinyBert(MainWindow& w, int epochs) {
  core::TrainConfig c = w.projectController()->project().config;
  c.backbone = "tiny_bert";
  c.strategy = core::Strategy::Full;
  c.epochs = epochs;
  c.batchSize = 8;
  c.checkpointEvery = 0;
  w.projectController()->setConfig(c, "tiny");
}

// Opens `n` topic texts in the window and sets the project up for the tiny BERT.
void openTopics(MainWindow& w, const test::TempDir& dir, int n, int epochs) {
  QSignalSpy loaded(w.datasetController(), &DatasetController::loaded);
  w.openDataset(QString::fromStdString(writeTopics(dir, n).string()));
  ASSERT_TRUE(loaded.wait(20000));
  useTinyBert(w, epochs);
}

TEST(MainWindow, TrainPageRunsStreamIntoChartsAndTheRunList) {
  test::TinyTextCatalog catalog;
  test::TempDir dir;
  MainWindow w(core::RuntimeReport{});
  w.show();
  openTopics(w, dir, 90, 3);
  ASSERT_FALSE(HasFatalFailure());
  QString error;
  ASSERT_TRUE(
      w.projectController()->saveAs(QString::fromStdString((dir / "p.tlproj").string()), &error));
  QSignalSpy finished(w.trainController(), &TrainController::runFinished);
  ASSERT_TRUE(w.trainPage()->startRun());
  ASSERT_TRUE(finished.wait(60000));
  EXPECT_GT(w.trainPage()->charts()->lossPointCount(), 0);
  ASSERT_EQ(w.trainPage()->runList()->topLevelItemCount(), 1);
  EXPECT_EQ(w.trainPage()->runList()->topLevelItem(0)->text(2), "finished");
  // The result was autosaved into the project file.
  const core::Project saved = core::loadProject(dir / "p.tlproj");
  ASSERT_EQ(saved.runs.size(), 1u);
  EXPECT_EQ(saved.runs[0].history.size(), 3u);
  EXPECT_TRUE(saved.runs[0].testAccuracy.has_value());
  // The run folder holds what a CLI run writes, and the run exports as a report (#17 part 4).
  for (const char* f : {"metrics.json", "history.json", "dataset.json", "mistakes.json"})
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(saved.runs[0].folder) / f)) << f;
  w.trainPage()->runList()->setCurrentItem(w.trainPage()->runList()->topLevelItem(0));
  EXPECT_EQ(w.trainPage()->reportRunIds(), QStringList{"run-1"});
  const QString html = QString::fromStdString((dir / "run-1.html").string());
  ASSERT_TRUE(w.trainPage()->exportReport(html, w.trainPage()->reportRunIds(), &error))
      << error.toStdString();
  const std::string page = core::readTextFile(html.toStdString(), 16 << 20);
  EXPECT_NE(page.find("Summary: run-1"), std::string::npos);
  EXPECT_NE(page.find("Per-class metrics (test)"), std::string::npos);
  const QString pdf = QString::fromStdString((dir / "run-1.pdf").string());
  ASSERT_TRUE(w.trainPage()->exportReport(pdf, {"run-1"}, &error)) << error.toStdString();
  EXPECT_GE(core::checkPdf(core::readTextFile(pdf.toStdString(), 16 << 20), "run-1.pdf").pages, 1);
  EXPECT_FALSE(w.trainPage()->exportReport(pdf, {"run-9"}, &error));
  EXPECT_TRUE(error.contains("run-9")) << error.toStdString();
  EXPECT_FALSE(w.trainPage()->exportReport(QStringLiteral("/tmp/x.txt"), {"run-1"}, &error));
  EXPECT_TRUE(error.contains(".html or .pdf")) << error.toStdString();
}

TEST(MainWindow, ClosingDuringTrainingAsksThenCancelsAndRecordsTheRun) {
  test::TinyTextCatalog catalog;
  test::TempDir dir;
  MainWindow w(core::RuntimeReport{});
  w.show();
  openTopics(w, dir, 600, 500);
  ASSERT_FALSE(HasFatalFailure());
  QStringList asked;
  QMessageBox::StandardButton answer = QMessageBox::No;
  w.setAsk([&](const QString& title, const QString&, QMessageBox::StandardButtons b) {
    asked << title;
    return b.testFlag(QMessageBox::Discard) ? QMessageBox::Discard : answer;
  });
  QSignalSpy points(w.trainController(), &TrainController::batchPoints);
  ASSERT_TRUE(w.trainPage()->startRun());
  ASSERT_TRUE(points.wait(20000));
  EXPECT_FALSE(w.close()) << "answering No keeps the window and the run";
  EXPECT_TRUE(w.trainController()->isRunning());
  answer = QMessageBox::Yes;
  EXPECT_TRUE(w.close());
  EXPECT_FALSE(w.trainController()->isRunning());
  EXPECT_EQ(asked.first(), "Training is running");
  ASSERT_EQ(w.projectController()->project().runs.size(), 1u);
  EXPECT_EQ(w.projectController()->project().runs[0].status, core::RunStatus::Cancelled);
}

}  // namespace
}  // namespace tlab::ui

namespace tlab::ui {
namespace {

// Start-up: the window comes up before the BLAS is measured; the measurement arrives from the
// background and replaces the placeholder in the status bar.
TEST(MainWindow, BlasIsMeasuredAfterTheWindowIsUp) {
  core::RuntimeReport runtime;  // as configureRuntime({0, false}) leaves it: not measured
  runtime.intraOpThreads = 2;
  MainWindow window(runtime);
  window.show();
  auto statusText = [&] {
    QString all;
    for (auto* label : window.statusBar()->findChildren<QLabel*>()) all += label->text() + "|";
    return all;
  };
  EXPECT_TRUE(statusText().contains(QStringLiteral("measuring"))) << statusText().toStdString();
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        return statusText().contains(QStringLiteral("GFLOP/s")) &&
               !statusText().contains(QStringLiteral("measuring"));
      },
      10000))
      << statusText().toStdString();
}

}  // namespace
}  // namespace tlab::ui
