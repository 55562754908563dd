// The embedding map's cost on the full Fashion-MNIST (70,000 images): penultimate features of a
// network (a bundle given with --model, else the catalog's pre-trained Fashion-MNIST CNN,
// "small_cnn_fmnist"), PCA of all of them, UMAP of a seeded subsample (10,000 by default), and the
// 5-NN accuracy on each map. With --gui S it also measures the GUI event loop (a 10 ms heartbeat)
// for S seconds while UMAP runs again and again on a worker thread (as the embedding-map view
// runs it), with a 10,000-point map on screen (redrawn every --redraw-ms, 0: never), and the
// cost of one redraw of that map. Prints one JSON object.
//   tlab_bench_embedding [--dataset DIR] [--model BUNDLE] [--points N] [--gui S] [--redraw-ms N]
#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <qcustomplot.h>

#include "bench/Heartbeat.h"
#include "core/dataset/Readers.h"
#include "core/explain/Projection.h"
#include "core/runtime/Runtime.h"
#include "core/train/Evaluate.h"
#include "core/train/ModelBundle.h"
#include "core/util/Random.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/BackboneLoader.h"
#include "ui/workers/Async.h"

using namespace tlab;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}
}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  std::string datasetPath = "/usr/share/datasets/fashion-mnist", model;
  int64_t points = 10000;
  double guiSeconds = 0;
  int redrawMs = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dataset") datasetPath = argv[i + 1];
    if (a == "--model") model = argv[i + 1];
    if (a == "--points") points = std::atoll(argv[i + 1]);
    if (a == "--gui") guiSeconds = std::atof(argv[i + 1]);
    if (a == "--redraw-ms") redrawMs = std::atoi(argv[i + 1]);
  }
  const auto rt = core::configureRuntime();
  auto dataset = std::make_shared<core::Dataset>(core::openDataset(datasetPath));
  core::ImageClassifier net;
  core::Preprocess pre;
  std::string source;
  if (!model.empty()) {
    auto m = core::loadModelBundle(model);
    net = m.net;
    pre = m.info.preprocess;
    source = model;
  } else {
    const auto catalog = core::BackboneCatalog::loadDefault();
    auto loaded = core::loadBackbone(catalog, "small_cnn_fmnist");
    net = loaded.net;
    pre = loaded.entry.preprocess();
    source =
        "small_cnn_fmnist (" +
        (loaded.weightsPath.empty() ? std::string("random weights") : loaded.weightsPath.string()) +
        ")";
  }
  net->eval();
  std::vector<size_t> all(dataset->size()), kept;
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  auto t = Clock::now();
  const auto features = core::extractFeatures(*net, dataset, all, pre, kept);
  const double featureSeconds = since(t);
  std::vector<int64_t> labels;
  for (size_t s : kept) labels.push_back(dataset->samples[s].label);

  t = Clock::now();
  const auto pca = core::pcaProjection(features, 2);
  const double pcaSeconds = since(t);
  const double pcaKnn = core::knnAccuracy(pca, labels, 5, 5000, 1);

  // Seeded subsample for UMAP.
  std::vector<int64_t> order(kept.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  core::Rng rng(7);
  const int64_t n = std::min<int64_t>(points, int64_t(order.size()));
  for (int64_t i = 0; i < n; ++i)
    std::swap(order[size_t(i)],
              order[size_t(i + int64_t(rng.below(uint64_t(int64_t(order.size()) - i))))]);
  order.resize(size_t(n));
  const auto sub = features.index_select(0, torch::tensor(order));
  std::vector<int64_t> subLabels;
  for (int64_t i : order) subLabels.push_back(labels[size_t(i)]);
  core::UmapOptions u;
  u.seed = 1;
  t = Clock::now();
  const auto umap = core::umapProjection(sub, u);
  const double umapSeconds = since(t);
  const double umapKnn = core::knnAccuracy(umap, subLabels, 5, 5000, 1);

  nlohmann::json out{
      {"cpu", cpuModel()},
      {"threads", rt.intraOpThreads},
      {"features_from", source},
      {"samples", kept.size()},
      {"feature_dim", features.size(1)},
      {"feature_seconds", featureSeconds},
      {"pca_seconds_all", pcaSeconds},
      {"pca_knn5_accuracy", pcaKnn},
      {"umap_points", n},
      {"umap_seconds", umapSeconds},
      {"umap_knn5_accuracy", umapKnn},
      {"features_knn5_accuracy_subsample", core::knnAccuracy(sub, subLabels, 5, 5000, 1)}};

  if (guiSeconds > 0) {
    QCustomPlot plot;
    plot.resize(900, 700);
    plot.show();
    auto* g = plot.addGraph();
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
    QVector<double> xs, ys;
    for (int64_t i = 0; i < n; ++i) {
      xs << pca[order[size_t(i)]][0].item<double>();
      ys << pca[order[size_t(i)]][1].item<double>();
    }
    g->setData(xs, ys);
    plot.setNotAntialiasedElements(QCP::aeScatters);  // as the embedding-map view draws them
    plot.rescaleAxes();
    // The cost of one redraw of the map (what a zoom step costs the GUI thread).
    QElapsedTimer replotClock;
    replotClock.start();
    for (int i = 0; i < 10; ++i) plot.replot();
    out["replot_ms_10000_points"] = replotClock.nsecsElapsed() / 1e6 / 10;
    QTimer redraw;
    QObject::connect(&redraw, &QTimer::timeout, [&] { plot.replot(); });
    if (redrawMs > 0) redraw.start(redrawMs);
    bench::Heartbeat beat;
    ui::Async<int> task(&app);
    int runs = 0;
    std::function<void()> again = [&] {
      task.start(
          [sub](const std::atomic<bool>& cancelled) {
            core::UmapOptions o;
            o.seed = 2;
            o.cancel = &cancelled;
            core::umapProjection(sub, o);
            return 1;
          },
          [&](int) {
            ++runs;
            if (beat.elapsedMs() < qint64(guiSeconds * 1000)) again();
          });
    };
    beat.start();
    again();
    QTimer::singleShot(int(guiSeconds * 1000), &app, [&] {
      beat.stop();
      task.cancel();
      app.quit();
    });
    app.exec();
    out["gui"] = beat.summary();
    out["gui"]["umap_runs_completed"] = runs;
    out["gui"]["seconds"] = guiSeconds;
    out["gui"]["redraw_every_ms"] = redrawMs;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
