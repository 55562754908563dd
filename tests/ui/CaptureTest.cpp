// Capture through the frame-source interface: the image-sequence source (order, end, a folder
// that vanishes mid-stream = a camera unplugged), an absent camera, recording bursts into new
// classes with undo/redo, and the whole loop in the main window: record two classes, train, and
// see the live prediction follow the frames.
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QSignalSpy>
#include <QTest>
#include <QUndoStack>
#include <filesystem>
#include <opencv2/core.hpp>

#include "core/TestImages.h"
#include "core/image/ImageDecoder.h"
#include "core/runtime/Runtime.h"
#include "ui/capture/CaptureController.h"
#include "ui/capture/CaptureDialog.h"
#include "ui/capture/FrameSource.h"
#include "ui/capture/LivePredictor.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ModelController.h"
#include "ui/controllers/PredictController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/controllers/TrainController.h"
#include "ui/pages/MainWindow.h"
#include "ui/pages/TrainPage.h"

namespace tlab::ui {
namespace {

namespace fs = std::filesystem;

/// `n` noisy frames of one colour (RGB) named frame1.png ... frameN.png.
fs::path writeFrames(const fs::path& dir, cv::Scalar rgb, int n, int seed = 1) {
  cv::RNG rng{uint64_t(seed)};
  for (int i = 1; i <= n; ++i) {
    cv::Mat m(48, 64, CV_8UC3, rgb);
    cv::Mat noise(48, 64, CV_8UC3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 40);
    m += noise;
    test::writeImage(dir / ("frame" + std::to_string(i) + ".png"), m);
  }
  return dir;
}

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

int countFiles(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST(FrameSources, ImageSequencePlaysInNaturalOrderThenFinishes) {
  test::TempDir dir;
  // frame2 must come before frame10: each frame's red channel is its number x 20.
  for (int i : {1, 2, 10})
    test::writeImage(dir / ("frame" + std::to_string(i) + ".png"),
                     cv::Mat(8, 8, CV_8UC3, cv::Scalar(i * 20, 0, 0)));
  ImageSequenceSource source(q(dir.path()), 200);
  QVector<int> reds;
  QObject::connect(&source, &FrameSource::frame,
                   [&](const QImage& image) { reds << qRed(image.pixel(4, 4)); });
  QSignalSpy finished(&source, &FrameSource::finished);
  QSignalSpy failed(&source, &FrameSource::failed);
  source.start();
  EXPECT_TRUE(source.isActive());
  ASSERT_TRUE(finished.wait(5000));
  EXPECT_EQ(reds, (QVector<int>{20, 40, 200}));
  EXPECT_EQ(failed.count(), 0);
  EXPECT_FALSE(source.isActive());
}

TEST(FrameSources, ASequenceWhoseFilesVanishIsLostWithAMessage) {
  test::TempDir dir;
  writeFrames(dir / "seq", cv::Scalar(200, 30, 30), 8);
  ImageSequenceSource source(q(dir / "seq"), 20);
  QSignalSpy frames(&source, &FrameSource::frame);
  QSignalSpy failed(&source, &FrameSource::failed);
  source.start();
  ASSERT_TRUE(frames.wait(5000));
  fs::remove_all(dir / "seq");  // the "camera" is unplugged
  ASSERT_TRUE(failed.wait(5000));
  const QString message = failed.at(0).at(0).toString();
  EXPECT_TRUE(message.contains("lost")) << message.toStdString();
  EXPECT_TRUE(message.contains("frame2.png")) << message.toStdString();
  EXPECT_FALSE(source.isActive());
  const int seen = int(frames.count());
  QTest::qWait(200);
  EXPECT_EQ(frames.count(), seen);  // nothing after failed()
}

TEST(FrameSources, AbsentSourcesFailAtOnceWithAClearMessage) {
  test::TempDir dir;
  ImageSequenceSource missing(q(dir / "nowhere"), 10);
  QSignalSpy f1(&missing, &FrameSource::failed);
  missing.start();
  ASSERT_EQ(f1.count(), 1);
  EXPECT_TRUE(f1.at(0).at(0).toString().contains("does not exist"));

  fs::create_directories(dir / "empty");
  ImageSequenceSource empty(q(dir / "empty"), 10);
  QSignalSpy f2(&empty, &FrameSource::failed);
  empty.start();
  ASSERT_EQ(f2.count(), 1);
  EXPECT_TRUE(f2.at(0).at(0).toString().contains("no images"));

  // A camera that is not there (this machine has none, or not this one): refused at once.
  CameraSource camera("no-such-camera-id");
  QSignalSpy f3(&camera, &FrameSource::failed);
  camera.start();
  ASSERT_EQ(f3.count(), 1);
  const QString m3 = f3.at(0).at(0).toString();
  EXPECT_TRUE(m3.contains("No camera was found") || m3.contains("no longer connected"))
      << m3.toStdString();
  EXPECT_FALSE(camera.isActive());

  VideoFileSource video(q(dir / "missing.mp4"));
  QSignalSpy f4(&video, &FrameSource::failed);
  video.start();
  ASSERT_EQ(f4.count(), 1);
  EXPECT_TRUE(f4.at(0).at(0).toString().contains("missing.mp4"));
}

TEST(CaptureController, BurstsGoIntoNewClassesAndUndoRedoMovesThem) {
  test::TempDir dir;
  writeFrames(dir / "red", cv::Scalar(220, 20, 20), 6);
  writeFrames(dir / "blue", cv::Scalar(20, 20, 220), 5);
  QUndoStack undo;
  CaptureController capture;
  capture.setRoot(q(dir / "caps"));
  capture.setUndoStack(&undo);
  capture.setMaxRecordFps(0);  // every frame

  QString error;
  EXPECT_FALSE(capture.startRecording("red", &error));  // no source yet
  for (const char* bad : {"../x", ".hidden", "a/b", "", "tab\there"}) {
    EXPECT_TRUE(CaptureController::checkClassName(QString::fromLatin1(bad), &error).isEmpty())
        << bad;
    EXPECT_FALSE(error.isEmpty());
  }

  QSignalSpy recorded(&capture, &CaptureController::recorded);
  for (auto [name, count] : {std::pair{"red", 6}, std::pair{"blue", 5}}) {
    auto* source = new ImageSequenceSource(q(dir / name), 100);
    capture.setSource(source);
    source->start();
    ASSERT_TRUE(capture.startRecording(QString::fromLatin1(name), &error)) << error.toStdString();
    ASSERT_TRUE(recorded.wait(5000));  // the sequence ends: the burst ends with it
    EXPECT_EQ(recorded.last().at(1).toInt(), count);
  }
  QMap<QString, int> expected{{"red", 6}, {"blue", 5}};
  EXPECT_EQ(capture.classCounts(), expected);
  EXPECT_EQ(undo.count(), 2);
  // Frames are real JPEGs of what was shown.
  for (const auto& e : fs::directory_iterator(dir / "caps/blue")) {
    const auto img = core::decodeImageFile(e.path());
    ASSERT_TRUE(img.ok()) << img.error;
    const cv::Vec3b px = img.pixels.at<cv::Vec3b>(24, 32);
    EXPECT_GT(px[2], 150);  // blue channel (RGB order)
    EXPECT_LT(px[0], 100);
  }

  undo.undo();  // the blue burst: its files and its new class folder go away
  EXPECT_FALSE(fs::exists(dir / "caps/blue"));
  EXPECT_EQ(capture.classCounts(), (QMap<QString, int>{{"red", 6}}));
  undo.redo();
  EXPECT_EQ(countFiles(dir / "caps/blue"), 5);
  undo.undo();
  undo.undo();
  EXPECT_TRUE(capture.classCounts().isEmpty());
  undo.redo();
  EXPECT_EQ(countFiles(dir / "caps/red"), 6);
  // Nothing from the undo trash sits inside the capture folder (it would read as a class).
  for (const auto& e : fs::directory_iterator(dir / "caps"))
    EXPECT_EQ(e.path().filename().string().front() == '.', false) << e.path();
}

TEST(CaptureController, ALostSourceMidBurstKeepsWhatWasRecorded) {
  test::TempDir dir;
  writeFrames(dir / "seq", cv::Scalar(30, 200, 30), 40);
  QUndoStack undo;
  CaptureController capture;
  capture.setRoot(q(dir / "caps"));
  capture.setUndoStack(&undo);
  capture.setMaxRecordFps(0);
  auto* source = new ImageSequenceSource(q(dir / "seq"), 50);
  capture.setSource(source);
  source->start();
  QString error;
  ASSERT_TRUE(capture.startRecording("green", &error));
  QSignalSpy recordedFrames(&capture, &CaptureController::frameRecorded);
  QSignalSpy failed(&capture, &CaptureController::sourceFailed);
  QSignalSpy recorded(&capture, &CaptureController::recorded);
  while (recordedFrames.count() < 3) ASSERT_TRUE(recordedFrames.wait(5000));
  fs::remove_all(dir / "seq");  // unplugged mid-capture
  ASSERT_TRUE(failed.wait(5000));
  EXPECT_FALSE(capture.isRecording());
  ASSERT_EQ(recorded.count(), 1);
  const int kept = recorded.at(0).at(1).toInt();
  EXPECT_GE(kept, 3);
  EXPECT_EQ(countFiles(dir / "caps/green"), kept);
  EXPECT_EQ(undo.count(), 1);  // still one undoable step
}

TEST(CaptureLoop, EachProjectCapturesIntoItsOwnFolder) {
  test::TempDir dir;
  MainWindow w(core::RuntimeReport{});
  w.setAsk([](const QString&, const QString&, QMessageBox::StandardButtons) {
    return QMessageBox::Discard;
  });
  // Unsaved: a folder of its own in the data folder, kept while the project is open.
  const QString first = w.showCapture()->controller()->root();
  EXPECT_TRUE(first.endsWith("-captures")) << first.toStdString();
  EXPECT_EQ(w.showCapture()->controller()->root(), first);
  w.projectController()->newProject();  // another untitled project: another folder
  const QString second = w.showCapture()->controller()->root();
  EXPECT_NE(second, first);
  QString error;
  ASSERT_TRUE(w.projectController()->saveAs(q(dir / "lab.tlproj"), &error));
  EXPECT_EQ(w.captureController()->root(), q(dir / "lab-captures"));  // beside the project file
}

/// Waits until the live predictor has answered the last frame it was given.
void waitIdle(LivePredictor* live) {
  QTRY_VERIFY_WITH_TIMEOUT(!live->isBusy(), 20000);
  QTest::qWait(50);
}

TEST(CaptureLoop, RecordTwoClassesTrainAndLivePredictionsFollowTheFrames) {
  test::TempDir dir;
  MainWindow w(core::configureRuntime());
  w.setAsk([](const QString&, const QString&, QMessageBox::StandardButtons) {
    return QMessageBox::Discard;
  });
  w.show();
  QString error;
  ASSERT_TRUE(w.projectController()->saveAs(q(dir / "class.tlproj"), &error))
      << error.toStdString();
  CaptureDialog* dialog = w.showCapture();
  ASSERT_NE(dialog, nullptr);
  EXPECT_EQ(dialog->controller()->root(), q(dir / "class-captures"));
  dialog->controller()->setMaxRecordFps(0);

  QSignalSpy loaded(w.datasetController(), &DatasetController::loaded);
  QSignalSpy recorded(dialog->controller(), &CaptureController::recorded);
  int seed = 1;
  for (auto [name, rgb] :
       {std::pair{"red", cv::Scalar(220, 30, 30)}, std::pair{"blue", cv::Scalar(30, 30, 220)}}) {
    writeFrames(dir / "src" / name, rgb, 30, seed++);
    dialog->useSource(new ImageSequenceSource(q(dir / "src" / name), 100));
    dialog->classBox()->setCurrentText(QString::fromLatin1(name));  // a new class, typed
    ASSERT_TRUE(dialog->beginRecording()) << dialog->statusLabel()->text().toStdString();
    ASSERT_TRUE(recorded.wait(10000));
  }
  EXPECT_EQ(dialog->classList()->count(), 2);
  // The captures became the project's dataset, re-read after each burst.
  while (loaded.isEmpty() ||
         loaded.last().at(0).value<std::shared_ptr<const core::Dataset>>()->size() != 60u)
    ASSERT_TRUE(loaded.wait(20000));
  EXPECT_EQ(w.datasetController()->dataset()->numClasses(), 2u);
  EXPECT_EQ(QString::fromStdString(w.projectController()->project().dataset.path),
            q(dir / "class-captures"));

  core::TrainConfig c = w.projectController()->project().config;
  c.backbone = "small_cnn";
  c.strategy = core::Strategy::Scratch;
  c.epochs = 4;
  c.batchSize = 8;
  c.imageSize = 32;
  c.checkpointEvery = 0;
  w.projectController()->setConfig(c, "small");
  QSignalSpy built(w.modelController(), &ModelController::built);
  if (w.modelController()->isBuilding()) {
    ASSERT_TRUE(built.wait(30000));
  }
  QSignalSpy finished(w.trainController(), &TrainController::runFinished);
  QSignalSpy modelChanged(w.predictController(), &PredictController::modelChanged);
  emit dialog->trainRequested();  // the dialog's "Train on these examples"
  ASSERT_TRUE(finished.wait(120000));
  ASSERT_EQ(finished.at(0).at(0).value<core::RunRecord>().status, core::RunStatus::Finished)
      << finished.at(0).at(0).value<core::RunRecord>().error;
  ASSERT_GE(modelChanged.count(), 1);
  ASSERT_TRUE(dialog->predictor()->hasModel()) << dialog->predictor()->modelProblem().toStdString();

  // Live: new frames of each colour, alternating blocks; the shown prediction follows.
  QSignalSpy predicted(dialog->predictor(), &LivePredictor::predicted);
  int block = 0;
  for (auto [name, rgb] :
       {std::pair{"red", cv::Scalar(210, 40, 40)}, std::pair{"blue", cv::Scalar(40, 40, 210)},
        std::pair{"red", cv::Scalar(230, 20, 30)}}) {
    ++block;
    const fs::path frames = writeFrames(dir / "live" / std::to_string(block), rgb, 6, 50 + block);
    QSignalSpy done(dialog->controller(), &CaptureController::sourceFinished);
    dialog->useSource(new ImageSequenceSource(q(frames), 30));
    ASSERT_TRUE(done.wait(10000));
    waitIdle(dialog->predictor());
    EXPECT_EQ(dialog->shownTopClass(), QString::fromLatin1(name)) << "block " << block;
  }
  // Grad-CAM on: each predicted frame comes back with its heat map over it, in the preview.
  QSignalSpy overlays(dialog->predictor(), &LivePredictor::overlay);
  ASSERT_TRUE(dialog->gradCamBox()->isEnabled());
  dialog->gradCamBox()->setChecked(true);
  {
    const fs::path frames = writeFrames(dir / "live" / "cam", cv::Scalar(40, 40, 210), 4, 99);
    QSignalSpy done(dialog->controller(), &CaptureController::sourceFinished);
    dialog->useSource(new ImageSequenceSource(q(frames), 30));
    ASSERT_TRUE(done.wait(10000));
    waitIdle(dialog->predictor());
  }
  ASSERT_GE(overlays.count(), 1);
  const QImage overlay = overlays.last().at(0).value<QImage>();
  EXPECT_EQ(overlay.size(), QSize(64, 48));
  EXPECT_NE(overlay, dialog->controller()->lastFrame().convertToFormat(overlay.format()));
  EXPECT_EQ(dialog->shownTopClass(), QStringLiteral("blue"));
  EXPECT_GE(predicted.count(), 3);
  const auto stats = dialog->predictor()->stats();
  EXPECT_GE(stats.predicted, 3);
  EXPECT_GT(stats.p50Ms, 0);
  EXPECT_FALSE(dialog->statsLabel()->text().isEmpty() && stats.predicted == 0);

  // Each burst is a step of the project's undo stack; undoing the blue one removes the class.
  QUndoStack* stack = w.projectController()->undoStack();
  const QString blue = QString::fromUtf8("record 30 frames into \u201cblue\u201d");
  QStringList steps;
  for (int i = 0; i < stack->count(); ++i) steps << stack->text(i);
  ASSERT_TRUE(steps.contains(blue)) << steps.join(" | ").toStdString();
  while (stack->canUndo() && stack->undoText() != blue) stack->undo();
  stack->undo();
  EXPECT_EQ(dialog->controller()->classCounts(), (QMap<QString, int>{{"red", 30}}));
  EXPECT_EQ(dialog->classList()->count(), 1);
  dialog->close();  // closing turns the source off
  EXPECT_FALSE(dialog->controller()->source() && dialog->controller()->source()->isActive());
}

}  // namespace
}  // namespace tlab::ui
