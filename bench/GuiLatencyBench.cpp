// GUI responsiveness while training saturates the CPU: opens the main window on a project,
// starts a run from the Train page (its charts, progress and log update live), and measures the
// GUI event loop with a 10 ms heartbeat timer: latency = how late each tick fires. Prints one
// JSON line with p50/p99/max latency (ms), the ticks counted, the training steps seen and the
// chart updates. Goal: p99 under 50 ms.
//   tlab_bench_gui_latency PROJECT.tlproj [--seconds 30] [--epochs N]
// With --live FRAMES --model BUNDLE it measures the same while live prediction runs instead: the
// capture window replays the images of FRAMES (looped, --fps, default 30) as a camera would, and
// the bundle's model predicts every frame it can (frames dropped rather than queued); the JSON
// adds the predictions per second, their latency (frame arrival to result, p50/p99) and the
// frames dropped. --gradcam on adds the Grad-CAM overlay to every prediction.
// Needs a display (xvfb-run) or QT_QPA_PLATFORM=offscreen.
#include <QApplication>
#include <QCheckBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QSignalSpy>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include "bench/Heartbeat.h"
#include "core/runtime/Runtime.h"
#include "ui/capture/CaptureDialog.h"
#include "ui/capture/FrameSource.h"
#include "ui/capture/LivePredictor.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/PredictController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/controllers/TrainController.h"
#include "ui/pages/MainWindow.h"
#include "ui/pages/TrainPage.h"

using namespace tlab;

int main(int argc, char** argv) {
  ui::FrameSource::preferFfmpegBackend();
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("TransferLabBench"));
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PROJECT.tlproj [--seconds S] [--epochs N]\n", argv[0]);
    return 2;
  }
  double seconds = 30, fps = 30;
  int epochs = 0;
  QString live, model;
  bool gradcam = false;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--seconds") seconds = std::atof(argv[i + 1]);
    if (std::string(argv[i]) == "--epochs") epochs = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--fps") fps = std::atof(argv[i + 1]);
    if (std::string(argv[i]) == "--live") live = QString::fromLocal8Bit(argv[i + 1]);
    if (std::string(argv[i]) == "--model") model = QString::fromLocal8Bit(argv[i + 1]);
    if (std::string(argv[i]) == "--gradcam") gradcam = std::string(argv[i + 1]) == "on";
  }
  const core::RuntimeReport rt = core::configureRuntime();
  ui::MainWindow w(rt);
  w.setAsk([](const QString&, const QString&, QMessageBox::StandardButtons) {
    return QMessageBox::Discard;
  });
  w.resize(1280, 800);
  w.show();
  QSignalSpy loaded(w.datasetController(), &ui::DatasetController::loaded);
  if (!w.openProject(QString::fromLocal8Bit(argv[1])) || !loaded.wait(60000)) {
    std::fprintf(stderr, "could not open %s and its dataset\n", argv[1]);
    return 1;
  }
  if (epochs > 0) {
    core::TrainConfig c = w.projectController()->project().config;
    c.epochs = epochs;
    c.featureCache = false;  // keep the CPU busy with real forward/backward passes
    w.projectController()->setConfig(c, "bench");
  }
  if (!live.isEmpty()) {
    QString error;
    if (model.isEmpty() || !w.predictController()->openBundle(model, &error)) {
      std::fprintf(stderr, "--live needs --model BUNDLE: %s\n", error.toLocal8Bit().constData());
      return 1;
    }
    ui::CaptureDialog* capture = w.showCapture();
    capture->gradCamBox()->setChecked(gradcam);
    auto* source = new ui::ImageSequenceSource(live, fps);
    source->setLoop(true);
    capture->useSource(source);
    if (!source->isActive()) {
      std::fprintf(stderr, "%s\n", capture->statusLabel()->text().toLocal8Bit().constData());
      return 1;
    }
    bench::Heartbeat heartbeat;
    qint64 framesBefore = 0;
    QTimer::singleShot(2000, [&] {
      capture->predictor()->resetStats();
      framesBefore = source->framesDelivered();
      heartbeat.start();
    });
    QTimer::singleShot(int(2000 + seconds * 1000), &app, [&] {
      heartbeat.stop();
      const auto st = capture->predictor()->stats();
      nlohmann::json j = heartbeat.summary();
      j.update({{"mode", "live-prediction"},
                {"model", model.toStdString()},
                {"source_fps", fps},
                {"gradcam", gradcam},
                {"frames", source->framesDelivered() - framesBefore},
                {"predictions", st.predicted},
                {"predictions_per_s", double(st.predicted) / seconds},
                {"latency_p50_ms", st.p50Ms},
                {"latency_p99_ms", st.p99Ms},
                {"frames_dropped", st.dropped},
                {"threads", rt.intraOpThreads}});
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
      app.quit();
    });
    return app.exec();
  }
  w.pages()->setCurrentWidget(w.trainPage());
  qint64 steps = 0, updates = 0;
  QObject::connect(w.trainController(), &ui::TrainController::batchPoints,
                   [&](const QString&, const QVector<ui::BatchPoint>& p) {
                     steps += p.size();
                     ++updates;
                   });
  if (!w.trainPage()->startRun()) return 1;

  bench::Heartbeat heartbeat;
  QTimer::singleShot(2000, [&] {  // measure once the run is under way
    heartbeat.start();
  });
  QTimer::singleShot(int(2000 + seconds * 1000), &app, [&] {
    heartbeat.stop();
    nlohmann::json j = heartbeat.summary();
    j.update({{"training_steps", steps},
              {"chart_updates", updates},
              {"still_training", w.trainController()->isRunning()},
              {"threads", rt.intraOpThreads}});
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    w.trainController()->shutdown();
    app.quit();
  });
  return app.exec();
}
