// End to end under a real X server (Xvfb, see tests/CMakeLists.txt): open the demo project,
// start a short run from the Train page, wait until the charts hold points and the confusion
// matrix is filled, click a cell, and check the gallery. With TLAB_SCREENSHOT_DIR set, saves a
// screenshot of every page with that content (docs/screenshots/ is made this way).
#include <gtest/gtest.h>
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <qcustomplot.h>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QListView>
#include <QListWidget>
#include <QSet>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>
#include <QTextBrowser>
#include <QTreeView>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "core/TestImages.h"
#include "core/project/Project.h"
#include "core/runtime/Runtime.h"
#include "ui/capture/CaptureController.h"
#include "ui/capture/CaptureDialog.h"
#include "ui/capture/FrameSource.h"
#include "ui/capture/LivePredictor.h"
#include "ui/controllers/DataEfficiencyController.h"
#include "ui/controllers/DataIssuesController.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/EvaluateController.h"
#include "ui/controllers/ExplainController.h"
#include "ui/controllers/ModelController.h"
#include "ui/controllers/PredictController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/controllers/TrainController.h"
#include "ui/pages/DatasetPage.h"
#include "ui/pages/EvaluatePage.h"
#include "ui/pages/MainWindow.h"
#include "ui/pages/ModelPage.h"
#include "ui/pages/PredictPage.h"
#include "ui/pages/TrainPage.h"
#include "ui/widgets/AugmentationPanel.h"
#include "ui/widgets/CalibrationView.h"
#include "ui/widgets/DataEfficiencyDialog.h"
#include "ui/widgets/DataIssuesView.h"
#include "ui/widgets/DatasetImportDialog.h"
#include "ui/widgets/EmbeddingMap.h"
#include "ui/widgets/ExampleDialog.h"
#include "ui/widgets/SampleBrowser.h"
#include "ui/widgets/TrainCharts.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
namespace {

/// Saves `w` as TLAB_SCREENSHOT_DIR/name when that is set (for docs/screenshots).
void screenshotOf(QWidget& w, const QString& name) {
  const QByteArray dir = qgetenv("TLAB_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  QTest::qWait(300);  // screenshots only: queued replots and thumbnails land before the grab
  QDir().mkpath(QString::fromLocal8Bit(dir));
  w.grab().save(QString::fromLocal8Bit(dir) + QLatin1Char('/') + name);
}

/// Runs the open data-efficiency dialog over `sizes` with `seeds` until it finishes, not cancelled.
void runCurve(DataEfficiencyDialog* dialog, const QString& sizes, int seeds) {
  ASSERT_NE(dialog, nullptr);
  ASSERT_TRUE(QTest::qWaitForWindowExposed(dialog));
  dialog->sizesEdit()->setText(sizes);
  dialog->seedsBox()->setValue(seeds);
  QSignalSpy done(dialog->controller(), &DataEfficiencyController::finished);
  ASSERT_TRUE(dialog->start());
  ASSERT_TRUE(done.wait(600000)) << dialog->status()->text().toStdString();
  EXPECT_FALSE(done.at(0).at(0).toBool());
}

void screenshot(MainWindow& w, int page, const QString& name) {
  if (qgetenv("TLAB_SCREENSHOT_DIR").isEmpty()) return;
  w.pages()->setCurrentIndex(page);
  screenshotOf(w, name);
}

TEST(GuiEndToEnd, DemoProjectTrainsAndFillsChartsAndConfusionMatrix) {
  const std::filesystem::path demo =
      std::filesystem::path(TLAB_SOURCE_DIR) / "build/demo/fashion-fewshot.tlproj";
  if (!std::filesystem::exists(demo)) GTEST_SKIP() << "run scripts/prepare-demo-data first";
  test::TempDir dir;
  core::Project p = core::loadProject(demo);  // a copy: the run must not touch the demo
  p.config.epochs = 2;
  core::saveProject(dir / "demo.tlproj", p);

  MainWindow w(core::configureRuntime());
  w.setAsk([](const QString&, const QString&, QMessageBox::StandardButtons) {
    return QMessageBox::Discard;
  });
  w.resize(1280, 800);
  w.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
  QSignalSpy loaded(w.datasetController(), &DatasetController::loaded);
  ASSERT_TRUE(w.openProject(QString::fromStdString((dir / "demo.tlproj").string())));
  ASSERT_TRUE(loaded.wait(30000));
  QSignalSpy built(w.modelController(), &ModelController::built);
  if (w.modelController()->isBuilding() || w.modelController()->backbone().isEmpty()) {
    ASSERT_TRUE(built.wait(30000));
  }

  QSignalSpy finished(w.trainController(), &TrainController::runFinished);
  w.pages()->setCurrentWidget(w.trainPage());
  ASSERT_TRUE(w.trainPage()->startRun());
  ASSERT_TRUE(finished.wait(120000));
  const auto run = finished.at(0).at(0).value<core::RunRecord>();
  ASSERT_EQ(run.status, core::RunStatus::Finished) << run.error;
  EXPECT_GE(w.trainPage()->charts()->lossPointCount(), 2 * 28);  // 900 images / 32 per step
  EXPECT_EQ(w.trainPage()->charts()->lossPlot()->graph(2)->dataCount(), 2);  // val per epoch

  // The confusion matrix holds every test image; a diagonal cell opens exactly its samples.
  const auto& eval = w.evaluateController()->evaluation();
  ASSERT_EQ(eval.confusion.size(), 10u);
  int64_t total = 0;
  for (const auto& row : eval.confusion)
    for (int64_t v : row) total += v;
  EXPECT_EQ(total, eval.count);
  EXPECT_EQ(total, 10000);
  EXPECT_EQ(w.evaluatePage()->classTable()->rowCount(), 10);
  w.pages()->setCurrentWidget(w.evaluatePage());
  ASSERT_TRUE(QTest::qWaitForWindowExposed(w.evaluatePage()->matrixPlot()));
  w.evaluatePage()->matrixPlot()->replot();
  QTest::mouseClick(w.evaluatePage()->matrixPlot(), Qt::LeftButton, {},
                    w.evaluatePage()->cellCentre(7, 7));
  EXPECT_EQ(w.evaluatePage()->galleryView()->count(), int(eval.confusion[7][7]));
  // Thumbnails are decoded in the background and arrive.
  EXPECT_TRUE(QTest::qWaitFor(
      [&] { return !w.evaluatePage()->galleryView()->item(0)->icon().isNull(); }, 5000));

  // The Data page's grid: a click shows the sample in the detail view.
  w.pages()->setCurrentIndex(0);
  QListView* grid = w.datasetPage()->browser()->grid();
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return grid->visualRect(grid->model()->index(3, 0)).isValid(); }, 5000));
  QTest::mouseClick(grid->viewport(), Qt::LeftButton, {},
                    grid->visualRect(grid->model()->index(3, 0)).center());
  EXPECT_TRUE(w.datasetPage()->browser()->detailText().contains(QStringLiteral("class:")));
  screenshot(w, 0, QStringLiteral("data-page.png"));

  // Augmentation preview: the demo's 28x28 grey inputs, evaluation view + 5 epochs per row.
  w.datasetPage()->showAugmentation(true);
  AugmentationPanel* aug = w.datasetPage()->augmentation();
  ASSERT_TRUE(QTest::qWaitFor([&] { return !aug->shownGrid().cells.empty(); }, 5000));
  ASSERT_EQ(aug->shownGrid().cells.size(), size_t(AugmentationPanel::kRows) * 6);
  EXPECT_EQ(aug->shownGrid().cell(0, 1).size(), QSize(28, 28));
  screenshot(w, 0, QStringLiteral("augmentation.png"));
  w.datasetPage()->showAugmentation(false);

  // The import dialog on the demo's dataset: the preview before committing.
  {
    DatasetImportDialog importer(w.projectController()->project().dataset, &w);
    QSignalSpy previewed(&importer, &DatasetImportDialog::previewReady);
    importer.show();
    ASSERT_TRUE(previewed.wait(30000));
    EXPECT_TRUE(previewed.at(0).at(0).toBool()) << importer.summaryText().toStdString();
    EXPECT_EQ(importer.classTable()->rowCount(), 10);
    screenshotOf(importer, QStringLiteral("import-dialog.png"));
    importer.reject();
  }
  w.modelPage()->findChild<QTreeView*>()->expandToDepth(0);
  screenshot(w, 1, QStringLiteral("model-page.png"));
  w.trainPage()->runList()->topLevelItem(0)->setCheckState(0, Qt::Checked);
  screenshot(w, 2, QStringLiteral("train-page.png"));
  // View -> Presenter Mode on the finished run, as a projector would show it.
  if (!qgetenv("TLAB_SCREENSHOT_DIR").isEmpty()) {
    w.setPresenterMode(true);
    screenshot(w, 2, QStringLiteral("train-page-presenter.png"));
    w.setPresenterMode(false);
  }
  w.evaluateController()->showMistakes(40);
  screenshot(w, 3, QStringLiteral("evaluate-page.png"));

  // Explain: Grad-CAM over the most confident mistakes and in the detail view, then the
  // embedding map of the test split, pre-trained backbone beside the fine-tuned model.
  {
    EvaluatePage* page = w.evaluatePage();
    ExplainController* explain = w.explainController();
    ASSERT_TRUE(explain->hasModel());
    EXPECT_EQ(explain->layer(), QStringLiteral("block3"));
    w.pages()->setCurrentWidget(page);
    page->overlayToggle()->setChecked(true);
    page->galleryView()->setCurrentRow(0);
    const size_t first = w.evaluateController()->gallery().at(0).sample;
    ASSERT_TRUE(QTest::qWaitFor(
        [&] { return explain->map(first) != nullptr && !explain->isBusy(); }, 60000));
    EXPECT_TRUE(explain->map(first)->error.isEmpty());
    EXPECT_TRUE(page->detailText()->text().contains(QStringLiteral("Grad-CAM")));
    screenshot(w, 3, QStringLiteral("evaluate-explain.png"));
    EmbeddingMapView* map = page->embeddingMap();
    page->lowerTabs()->setCurrentWidget(map);
    map->methodBox()->setCurrentIndex(1);  // UMAP
    map->findChild<QSpinBox*>()->setValue(4000);
    QSignalSpy mapped(map, &EmbeddingMapView::finished);
    map->compute();
    ASSERT_TRUE(mapped.wait(180000));
    EXPECT_EQ(map->result().after.size(), 4000);
    EXPECT_EQ(map->result().before.size(), 4000);  // the pre-trained small_cnn_fmnist
    EXPECT_GT(map->result().knnAfter, 0.5);
    screenshot(w, 3, QStringLiteral("embedding-map.png"));
    // The whole test split (PCA): the pre-trained features, once extracted, are stored in the
    // feature cache under the keys training uses; the next map reads them, point for point.
    map->methodBox()->setCurrentIndex(0);
    map->findChild<QSpinBox*>()->setValue(100000);
    map->compute();
    ASSERT_TRUE(mapped.wait(180000));
    const QVector<QPointF> whole = map->result().before;
    EXPECT_EQ(whole.size(), 10000);
    const EmbeddingMapResult cold = map->result();
    map->compute();
    ASSERT_TRUE(mapped.wait(180000));
    EXPECT_TRUE(map->result().featuresFromCache);
    EXPECT_EQ(map->result().before, whole);
    std::printf(
        "embedding map, whole test split (10,000 images, PCA): %.1f s with the pre-trained "
        "features %s, %.1f s with them from the feature cache\n",
        cold.seconds, cold.featuresFromCache ? "from the cache" : "extracted",
        map->result().seconds);
    // Calibration: the run's reliability diagram before and after its temperature, and
    // accuracy against coverage with the "unsure" threshold.
    page->lowerTabs()->setCurrentWidget(page->calibrationView());
    EXPECT_GT(page->calibrationView()->eceBefore(), 0);
    EXPECT_FALSE(page->calibrationView()->summaryText().isEmpty());
    screenshot(w, 3, QStringLiteral("evaluate-calibration.png"));
    page->lowerTabs()->setCurrentIndex(0);
    page->overlayToggle()->setChecked(false);
  }

  // Predict: the run's model is there; Export ONNX writes and verifies a bundle on the run's
  // own samples, and the page says what was checked.
  {
    test::TempDir out;
    QSignalSpy exported(w.predictController(), &PredictController::exported);
    w.pages()->setCurrentIndex(4);
    auto* page = w.findChild<PredictPage*>();
    ASSERT_NE(page, nullptr);
    page->exportTo(QString::fromStdString((out / "fashion-model").string()), true);
    ASSERT_TRUE(exported.wait(60000));
    EXPECT_TRUE(exported.at(0).at(2).toString().isEmpty())
        << exported.at(0).at(2).toString().toStdString();
    EXPECT_TRUE(exported.at(0).at(1).toString().contains(QStringLiteral("samples of the")));
    EXPECT_TRUE(std::filesystem::exists(out / "fashion-model" / "model.onnx"));
    // Predict one test image with "Explain" on: its heat map appears beside the bars.
    const auto dataset = w.evaluateController()->dataset();
    const size_t sample = w.evaluateController()->evaluation().predictions.at(0).sample;
    const QString png = QString::fromStdString((out / "sample.png").string());
    ASSERT_TRUE(sampleImage(*dataset, sample, 28).save(png));
    QSignalSpy explained(w.predictController(), &PredictController::explained);
    page->explainToggle()->setChecked(true);
    w.predictController()->predictFiles({png});
    ASSERT_TRUE(explained.wait(60000));
    EXPECT_FALSE(page->explainView()->pixmap().isNull());
    screenshot(w, 4, QStringLiteral("predict-page.png"));
  }

  // Data issues on the demo project (the run's backbone, its features): the ranked findings
  // with thumbnails, given and suggested labels.
  {
    w.pages()->setCurrentIndex(0);
    DataIssuesView* issues = w.datasetPage()->issuesView();
    for (auto* tabs : w.datasetPage()->findChildren<QTabWidget*>())
      if (tabs->indexOf(issues) >= 0) tabs->setCurrentWidget(issues);
    QSignalSpy found(w.datasetPage()->issues(), &DataIssuesController::finished);
    issues->findIssues();
    ASSERT_TRUE(found.wait(300000)) << issues->summaryText().toStdString();
    EXPECT_GT(issues->table()->rowCount(), 0);
    screenshot(w, 0, QStringLiteral("data-issues.png"));
  }

  // Train -> Data-Efficiency Curve on the demo: the pre-trained CNN's linear probe against the
  // same CNN from scratch, the plot growing as runs finish.
  {
    w.pages()->setCurrentWidget(w.trainPage());
    w.trainPage()->showDataEfficiency();
    auto* dialog = w.trainPage()->findChild<DataEfficiencyDialog*>();
    ASSERT_NO_FATAL_FAILURE(runCurve(dialog, QStringLiteral("1, 5, 20, 90"), 2));
    EXPECT_EQ(dialog->controller()->rows().size(), 16u);
    EXPECT_EQ(dialog->plot()->graphCount(), 2);
    screenshotOf(*dialog, QStringLiteral("data-efficiency.png"));
    dialog->setAsk(
        [](const QString&, QMessageBox::StandardButtons) { return QMessageBox::Discard; });
    EXPECT_TRUE(dialog->close());
  }
  EXPECT_TRUE(w.close());
}

// Help -> Examples -> Transfer Hurts on the bundled digits: the explanation, then its curve
// (probe and fine-tune-last of the clothing CNN against scratch), which shows what it claims:
// with 90 digits per class the network trained from scratch beats the frozen clothing features.
TEST(GuiEndToEnd, NegativeTransferExampleShowsItsCurve) {
  test::TempDir dir;
  MainWindow w(core::configureRuntime({0, false}));
  w.setExamplesFolder(QString::fromStdString((dir / "examples").string()));
  w.resize(1280, 800);
  w.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
  QSignalSpy loaded(w.datasetController(), &DatasetController::loaded);
  QString error;
  ASSERT_TRUE(w.openExample(QStringLiteral("negative-transfer-digits"), &error))
      << error.toStdString();
  ASSERT_TRUE(loaded.wait(60000));
  ExampleDialog* explanation = w.exampleDialog();
  ASSERT_NE(explanation, nullptr);
  ASSERT_TRUE(QTest::qWaitForWindowExposed(explanation));
  screenshotOf(*explanation, QStringLiteral("example-negative-transfer.png"));

  explanation->curveButton()->click();
  auto* dialog = w.trainPage()->findChild<DataEfficiencyDialog*>();
  ASSERT_NO_FATAL_FAILURE(runCurve(dialog, QStringLiteral("1, 5, 20, 90"), 1));
  ASSERT_EQ(dialog->controller()->rows().size(), 12u);  // 4 sizes x 3 strategies x 1 seed
  EXPECT_EQ(dialog->plot()->graphCount(), 3);
  double probe90 = -1, scratch90 = -1;
  for (const auto& row : dialog->controller()->rows()) {
    if (row.run.perClass != 90) continue;
    if (row.run.strategy == core::Strategy::LinearProbe) probe90 = row.accuracy;
    if (row.run.strategy == core::Strategy::Scratch) scratch90 = row.accuracy;
  }
  EXPECT_GT(scratch90, probe90 + 0.1) << "probe " << probe90 << ", scratch " << scratch90;
  screenshotOf(*dialog, QStringLiteral("example-negative-transfer-curve.png"));
  dialog->setAsk([](const QString&, QMessageBox::StandardButtons) { return QMessageBox::Discard; });
  EXPECT_TRUE(dialog->close());
  explanation->close();
  EXPECT_TRUE(w.close());
}

}  // namespace
}  // namespace tlab::ui

namespace tlab::ui {
namespace {

// The capture loop in a real window with the video-file source (Qt Multimedia decoding an AVI):
// label the video's frames into two classes while it plays, train, play it again; the live
// prediction names the ball's colour. (CaptureTest checks the same loop on unseen frames.)
TEST(GuiEndToEnd, CaptureWindowPredictsLiveOnAVideo) {
  test::TempDir dir;
  MainWindow w(core::configureRuntime());
  w.setAsk([](const QString&, const QString&, QMessageBox::StandardButtons) {
    return QMessageBox::Discard;
  });
  w.resize(1280, 800);
  w.show();
  QString error;
  ASSERT_TRUE(
      w.projectController()->saveAs(QString::fromStdString((dir / "lab.tlproj").string()), &error));
  CaptureDialog* d = w.showCapture();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(d));
  d->controller()->setMaxRecordFps(0);
  const QString video = QStringLiteral(TLAB_TEST_DATA_DIR "/capture/two-balls.avi");
  // Label frames from the video: the red half into one class, the blue half into another,
  // leaving out the frames around the change.
  {
    int seen = 0;
    QMetaObject::Connection labeller =
        QObject::connect(d->controller(), &CaptureController::frameArrived, d, [&](const QImage&) {
          ++seen;
          if (seen == 1) d->classBox()->setCurrentText(QStringLiteral("red ball"));
          if (seen == 1 || seen == 30) {
            if (seen == 30) d->classBox()->setCurrentText(QStringLiteral("blue ball"));
            ASSERT_TRUE(d->beginRecording());
          }
          if (seen == 19) d->endRecording();
        });
    QSignalSpy failed(d->controller(), &CaptureController::sourceFailed);
    QSignalSpy ended(d->controller(), &CaptureController::sourceFinished);
    QSignalSpy loaded(w.datasetController(), &DatasetController::loaded);
    d->useSource(new VideoFileSource(video));
    ASSERT_TRUE(ended.wait(20000) || !failed.isEmpty());
    ASSERT_TRUE(failed.isEmpty()) << failed.at(0).at(0).toString().toStdString();
    QObject::disconnect(labeller);
    EXPECT_GE(seen, 40);  // 48 in the file; a backend may drop a few
    const auto counts = d->controller()->classCounts();
    ASSERT_EQ(counts.size(), 2);
    EXPECT_GE(counts.value(QStringLiteral("red ball")), 15);
    EXPECT_GE(counts.value(QStringLiteral("blue ball")), 10);
    const int total =
        counts.value(QStringLiteral("red ball")) + counts.value(QStringLiteral("blue ball"));
    while (loaded.isEmpty() ||
           loaded.last().at(0).value<std::shared_ptr<const core::Dataset>>()->size() !=
               size_t(total))
      ASSERT_TRUE(loaded.wait(20000));
  }
  core::TrainConfig c = w.projectController()->project().config;
  c.backbone = "small_cnn";
  c.strategy = core::Strategy::Scratch;
  c.epochs = 15;
  c.lr = 3e-3;
  c.batchSize = 8;
  c.imageSize = 48;
  c.checkpointEvery = 0;
  w.projectController()->setConfig(c, "small");
  QSignalSpy finished(w.trainController(), &TrainController::runFinished);
  emit d->trainRequested();
  ASSERT_TRUE(finished.wait(120000));
  ASSERT_TRUE(d->predictor()->hasModel()) << d->predictor()->modelProblem().toStdString();

  // Play it again: the live prediction follows the ball's colour. Each prediction is paired
  // with the number of frames seen when it came (latency ~10 ms, a frame every 83 ms).
  int seen = 0;
  QVector<QPair<int, QString>> shown;
  QObject::connect(d->controller(), &CaptureController::frameArrived, d, [&] { ++seen; });
  QObject::connect(d->predictor(), &LivePredictor::predicted, [&](const Prediction& p, double) {
    shown.push_back({seen, p.labels.value(0)});
  });
  QSignalSpy failed(d->controller(), &CaptureController::sourceFailed);
  QSignalSpy ended(d->controller(), &CaptureController::sourceFinished);
  QSignalSpy overlays(d->predictor(), &LivePredictor::overlay);
  d->gradCamBox()->setChecked(true);  // and show where the model looks
  d->useSource(new VideoFileSource(video));
  QTest::qWait(1200);  // the red half of the video
  screenshotOf(*d, QStringLiteral("capture.png"));
  ASSERT_TRUE(ended.wait(20000) || !failed.isEmpty());
  ASSERT_TRUE(failed.isEmpty()) << failed.at(0).at(0).toString().toStdString();
  QTRY_VERIFY_WITH_TIMEOUT(!d->predictor()->isBusy(), 20000);
  int red = 0, redRight = 0, blue = 0, blueRight = 0;
  for (const auto& [frame, label] : shown) {
    if (frame >= 3 && frame <= 18) {
      ++red;
      redRight += label == QStringLiteral("red ball");
    } else if (frame >= 30 && frame <= 44) {
      ++blue;
      blueRight += label == QStringLiteral("blue ball");
    }
  }
  ASSERT_GE(red, 8);
  ASSERT_GE(blue, 8);
  EXPECT_GE(redRight, red * 9 / 10) << redRight << " of " << red;
  EXPECT_GE(blueRight, blue * 9 / 10) << blueRight << " of " << blue;
  EXPECT_GE(overlays.count(), red + blue);
}

}  // namespace
}  // namespace tlab::ui
