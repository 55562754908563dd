// GUI responsiveness while training saturates the CPU: opens the main window on a project,
// starts a run from the Train page (its charts, progress and log update live), and measures the
// GUI event loop with a 10 ms heartbeat timer: latency = how late each tick fires. Prints one
// JSON line with p50/p99/max latency (ms), the ticks counted, the training steps seen and the
// chart updates. Goal: p99 under 50 ms.
//   tlab_bench_gui_latency PROJECT.tlproj [--seconds 30] [--epochs N]
// Needs a display (xvfb-run) or QT_QPA_PLATFORM=offscreen.
#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include "bench/Heartbeat.h"
#include "core/runtime/Runtime.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/controllers/TrainController.h"
#include "ui/pages/MainWindow.h"
#include "ui/pages/TrainPage.h"

using namespace tlab;

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("TransferLabBench"));
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PROJECT.tlproj [--seconds S] [--epochs N]\n", argv[0]);
    return 2;
  }
  double seconds = 30;
  int epochs = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--seconds") seconds = std::atof(argv[i + 1]);
    if (std::string(argv[i]) == "--epochs") epochs = std::atoi(argv[i + 1]);
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
