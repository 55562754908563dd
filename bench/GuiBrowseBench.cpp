// Sample-grid smoothness on a large dataset: opens DATASET (e.g. the 70,000-image
// Fashion-MNIST IDX folder) in the Data page's sample browser and scrolls the thumbnail grid
// the way a user drags the scroll bar: a step every 16 ms for 1.5 s (steady paging, or jumps
// to random positions), then a stop. A 10 ms heartbeat timer on the GUI thread records how
// late each tick fires. Prints one JSON line: load time, rows, p50/p99/max latency (ms),
// thumbnails decoded, and after each stop how long until every thumbnail on screen showed.
//   tlab_bench_gui_browse DATASET [--seconds 20]
// Needs a display (xvfb-run) or QT_QPA_PLATFORM=offscreen.
#include <QApplication>
#include <QElapsedTimer>
#include <QListView>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include "bench/Heartbeat.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/models/SampleModel.h"
#include "ui/widgets/SampleBrowser.h"

using namespace tlab;

// Whether every thumbnail on screen has been decoded and shown.
bool allVisibleShown(ui::SampleBrowser& browser) {
  QListView* grid = browser.grid();
  const QRect view = grid->viewport()->rect();
  QModelIndex first;  // the top-left item (indexAt misses in the spacing between items)
  for (int y = 0; y < 140 && !first.isValid(); y += 10)
    for (int x = 0; x < 140 && !first.isValid(); x += 10) first = grid->indexAt(QPoint(x, y));
  if (!first.isValid()) return false;
  for (int r = first.row(); r < std::min(first.row() + 400, browser.model()->rowCount()); ++r) {
    const QModelIndex i = browser.model()->index(r, 0);
    const QRect box = grid->visualRect(i);
    if (box.top() > view.bottom()) break;
    if (box.intersects(view) && !i.data(Qt::DecorationRole).canConvert<QImage>()) return false;
  }
  return true;
}

// The scroll "user": 1.5 s of scrolling (steady paging, or random jumps every other time), then
// letting go; from the moment scrolling stops it times how long until every thumbnail on screen
// is decoded and shown ("settle"), then scrolls again. tick() runs every 16 ms.
class ScrollUser {
 public:
  ScrollUser(ui::SampleBrowser& browser, bench::Heartbeat& heartbeat)
      : browser(browser), heartbeat(heartbeat), bar(browser.grid()->verticalScrollBar()) {}
  ui::SampleBrowser& browser;
  bench::Heartbeat& heartbeat;
  QScrollBar* bar;
  std::mt19937 rng{7};
  std::vector<double> settle;
  qint64 moves = 0, phaseStart = 0, stopAt = -1;
  int phase = 0;

  void tick() {
    const qint64 now = heartbeat.elapsedMs();
    if (stopAt >= 0) {  // let go: waiting for the screen to fill
      if (allVisibleShown(browser) || now - stopAt > 5000) {
        settle.push_back(double(now - stopAt));
        stopAt = -1;
        phaseStart = now;
        ++phase;
      }
      return;
    }
    if (now - phaseStart >= 1500) {
      stopAt = now;
      return;
    }
    const bool jumping = phase % 2 == 1;
    int v =
        jumping ? int(rng() % uint32_t(bar->maximum() + 1)) : bar->value() + bar->pageStep() / 4;
    if (v > bar->maximum()) v = 0;
    bar->setValue(v);
    ++moves;
  }
};

// Lists and verifies `path` as the GUI does; the seconds it took, or -1 when it failed.
double openDataset(ui::DatasetController& datasets, const char* path) {
  QElapsedTimer clock;
  clock.start();
  QSignalSpy loaded(&datasets, &ui::DatasetController::loaded);
  datasets.open(QString::fromLocal8Bit(path));
  if (!loaded.wait(600000)) return -1;
  return double(clock.elapsed()) / 1000.0;
}

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("TransferLabBench"));
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATASET [--seconds S]\n", argv[0]);
    return 2;
  }
  double seconds = 20;
  for (int i = 2; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--seconds") seconds = std::atof(argv[i + 1]);

  ui::ProjectController project;
  ui::DatasetController datasets;
  ui::SampleBrowser browser(&project);
  browser.resize(1240, 560);  // the grid's share of a 1280x800 window
  browser.show();
  const double loadSeconds = openDataset(datasets, argv[1]);
  if (loadSeconds < 0) {
    std::fprintf(stderr, "could not open %s\n", argv[1]);
    return 1;
  }
  browser.setDataset(datasets.dataset());

  bench::Heartbeat heartbeat;

  ScrollUser user(browser, heartbeat);
  QTimer scroll;
  scroll.setInterval(16);
  QObject::connect(&scroll, &QTimer::timeout, [&] { user.tick(); });
  QTimer::singleShot(500, [&] {
    heartbeat.start();
    scroll.start();
  });
  QTimer::singleShot(int(500 + seconds * 1000), &app, [&] {
    heartbeat.stop();
    scroll.stop();
    std::vector<double> settle = user.settle;
    std::sort(settle.begin(), settle.end());
    nlohmann::json j = heartbeat.summary();
    j.update({{"rows", browser.model()->rowCount()},
              {"load_and_verify_s", loadSeconds},
              {"scroll_steps", user.moves},
              {"thumbnails_decoded", browser.model()->decodesStarted()},
              {"stops", settle.size()},
              {"settle_p50_ms", settle.empty() ? 0 : settle[settle.size() / 2]},
              {"settle_max_ms", settle.empty() ? 0 : settle.back()}});
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    app.quit();
  });
  return app.exec();
}
