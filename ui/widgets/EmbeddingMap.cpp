#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "ui/widgets/EmbeddingMap.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include <chrono>
#include <cmath>

#include "core/Errors.h"
#include "core/dataset/Dataset.h"
#include "core/explain/Projection.h"
#include "core/train/CachedFeatures.h"
#include "core/train/Evaluate.h"
#include "core/train/FeatureCache.h"
#include "core/train/StartingModel.h"
#include "core/util/Random.h"
#include "ui/controllers/ExplainController.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
namespace {

QColor classColour(int c) {
  static const QColor palette[] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  const QColor base = palette[c % 10];
  return c < 10 ? base : base.darker(100 + 40 * (c / 10));
}

QVector<QPointF> toPoints(const torch::Tensor& xy) {
  const auto c = xy.contiguous();
  const float* p = c.data_ptr<float>();
  QVector<QPointF> out(int(c.size(0)));
  for (int i = 0; i < out.size(); ++i) out[i] = QPointF(p[2 * i], p[2 * i + 1]);
  return out;
}

}  // namespace

EmbeddingMapView::EmbeddingMapView(ExplainController* explain, QWidget* parent)
    : QWidget(parent),
      explain_(explain),
      split_(new QComboBox(this)),
      method_(new QComboBox(this)),
      maxPoints_(new QSpinBox(this)),
      compute_(new QPushButton(tr("Compute map"), this)),
      cancel_(new QPushButton(tr("Cancel"), this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      hover_(new QLabel(this)),
      before_(new QCustomPlot(this)),
      after_(new QCustomPlot(this)),
      poll_(new QTimer(this)) {
  split_->addItem(tr("test split"), int(core::Split::Test));
  split_->addItem(tr("validation split"), int(core::Split::Val));
  split_->addItem(tr("training split"), int(core::Split::Train));
  split_->addItem(tr("all samples"), -1);
  method_->addItem(tr("PCA (exact)"), QStringLiteral("pca"));
  method_->addItem(tr("UMAP (seeded)"), QStringLiteral("umap"));
  maxPoints_->setRange(100, 100000);
  maxPoints_->setSingleStep(1000);
  maxPoints_->setValue(10000);
  maxPoints_->setSuffix(tr(" points at most"));
  maxPoints_->setToolTip(tr("A seeded random subsample when the split is larger"));
  cancel_->setEnabled(false);
  progress_->setRange(0, 1000);
  progress_->setVisible(false);
  hover_->setMinimumSize(140, 140);
  hover_->setAlignment(Qt::AlignTop | Qt::AlignHCenter);
  hover_->setWordWrap(true);
  hover_->setText(
      tr("Hover over a point to see its sample; click or drag a lasso around "
         "points to open them in the gallery."));
  for (QCustomPlot* p : {before_, after_}) {
    p->setMinimumSize(260, 240);
    p->setInteraction(QCP::iRangeZoom, true);
    p->setNoAntialiasingOnDrag(true);
    p->setNotAntialiasedElements(QCP::aeScatters);  // thousands of points: plain discs redraw fast
    p->xAxis->setTicks(false);
    p->yAxis->setTicks(false);
    p->xAxis->setTickLabels(false);
    p->yAxis->setTickLabels(false);
    p->plotLayout()->insertRow(0);
    p->plotLayout()->addElement(
        0, 0, new QCPTextElement(p, QString(), QFont(font().family(), 10, QFont::Bold)));
    p->setMouseTracking(true);
  }
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Features of the"), this));
  controls->addWidget(split_);
  controls->addWidget(method_);
  controls->addWidget(maxPoints_);
  controls->addWidget(compute_);
  controls->addWidget(cancel_);
  controls->addWidget(progress_, 1);
  controls->addWidget(status_, 2);
  auto* plots = new QHBoxLayout;
  plots->addWidget(before_, 1);
  plots->addWidget(after_, 1);
  plots->addWidget(hover_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(controls);
  layout->addLayout(plots, 1);

  connect(compute_, &QPushButton::clicked, this, &EmbeddingMapView::compute);
  connect(cancel_, &QPushButton::clicked, this, &EmbeddingMapView::cancel);
  connect(poll_, &QTimer::timeout, this, &EmbeddingMapView::updateProgress);
  for (int side = 0; side < 2; ++side) {
    QCustomPlot* p = plot(side);
    connect(p, &QCustomPlot::mousePress, this, [this, side](QMouseEvent* e) { onPress(side, e); });
    connect(p, &QCustomPlot::mouseMove, this, [this, side](QMouseEvent* e) { onMove(side, e); });
    connect(p, &QCustomPlot::mouseRelease, this,
            [this, side](QMouseEvent* e) { onRelease(side, e); });
  }
  draw();
}

EmbeddingMapView::~EmbeddingMapView() = default;

void EmbeddingMapView::cancel() {
  task_.cancel();
  poll_->stop();
  progress_->setVisible(false);
  compute_->setEnabled(true);
  cancel_->setEnabled(false);
  status_->setText(tr("Cancelled."));
}

void EmbeddingMapView::compute() {
  if (!explain_->hasModel() || !explain_->dataset()) {
    status_->setText(tr("Train a model first: the map shows its features."));
    return;
  }
  const auto dataset = explain_->dataset();
  const int split = split_->currentData().toInt();
  std::vector<size_t> indices;
  for (size_t i = 0; i < dataset->size(); ++i) {
    if (dataset->samples[i].label < 0) continue;
    if (split < 0 || int(dataset->samples[i].split) == split) indices.push_back(i);
  }
  if (indices.size() < 3) {
    status_->setText(tr("This split has too few labelled samples for a map."));
    return;
  }
  const size_t limit = size_t(maxPoints_->value());
  if (indices.size() > limit) {  // seeded subsample, kept in dataset order
    core::Rng rng(core::mixSeed(explain_->config().seed, 0x4d4150));
    for (size_t i = 0; i < limit; ++i)
      std::swap(indices[i], indices[i + size_t(rng.below(uint64_t(indices.size() - i)))]);
    indices.resize(limit);
    std::sort(indices.begin(), indices.end());
  }
  auto shared = std::make_shared<ProgressTracker>(/*clockPerStage=*/false);
  shared_ = shared;
  const auto net = explain_->networkCopy();
  const auto info = explain_->info();
  const auto config = explain_->config();
  const bool umap = method_->currentData().toString() == QLatin1String("umap");
  const uint64_t seed = config.seed;
  poll_->start(100);
  progress_->setValue(0);
  progress_->setVisible(true);
  compute_->setEnabled(false);
  cancel_->setEnabled(true);
  status_->setText(tr("Starting\u2026"));
  task_.start(
      [=](const std::atomic<bool>& cancelled) {
        const auto t0 = std::chrono::steady_clock::now();
        EmbeddingMapResult r;
        r.method = umap ? QStringLiteral("UMAP") : QStringLiteral("PCA");
        // Stage weights of the progress bar: features 0-0.35 (pre-trained) and 0.35-0.7
        // (fine-tuned), projections 0.7-1.
        const auto report = [&](const QString& stage, double fraction) {
          shared->report(stage.toStdString(), size_t(std::lround(1000 * fraction)), 1000);
        };
        core::InferenceOptions opts;
        opts.cancel = &cancelled;
        opts.batchSize = 64;
        // The pre-trained backbone's features: from the feature cache when a linear probe, the
        // data-issues check or an earlier map stored those of the split (the keys training
        // uses), else extracted (and stored when they are a whole split's).
        torch::Tensor before;
        std::vector<size_t> keptBefore;
        try {
          const auto start = core::startingModel(config, *dataset, [](const std::string&) {});
          start.net->eval();
          std::optional<core::FeatureCache> cache;
          std::string digest;
          if (!start.weightsPath.empty()) {  // random weights differ per seed: never cached
            cache.emplace(core::featureCacheDirectory());
            digest = core::weightsDigest(start.weightsPath);
            if (auto hit = cache->loadSamples(*dataset, indices, config.backbone, digest,
                                              start.preprocess)) {
              before = hit->features;
              keptBefore = indices;
              r.featuresFromCache = true;
            }
          }
          if (!before.defined()) {
            opts.progress = [&](size_t done, size_t total) {
              report(QObject::tr("Features of the pre-trained backbone"),
                     0.35 * double(done) / double(total));
            };
            before = core::extractFeatures(*start.net, dataset, indices, start.preprocess,
                                           keptBefore, opts);
            if (cache && split > 0 && keptBefore == dataset->indicesOf(core::Split(split))) {
              try {  // the cache only saves time: a full disk must not fail the map
                core::CachedFeatures entry{before, keptBefore};
                cache->store(core::featureCacheKey(*dataset, keptBefore, config.backbone, digest,
                                                   start.preprocess),
                             entry);
              } catch (const core::Error&) {
              }
            }
          }
          if (start.weightsPath.empty())
            r.note = QObject::tr("the run started from random weights: the left map shows them");
        } catch (const core::Cancelled&) {
          throw;
        } catch (const std::exception& e) {
          r.note = QObject::tr("no pre-trained map: %1").arg(QString::fromUtf8(e.what()));
          before = torch::Tensor();
        }
        // The fine-tuned model's. A linear probe trains only the head: its features are the
        // pre-trained backbone's, so those serve (no second pass over the images).
        std::vector<size_t> kept;
        torch::Tensor after;
        if (config.strategy == core::Strategy::LinearProbe && before.defined()) {
          after = before;
          kept = keptBefore;
        } else {
          opts.progress = [&](size_t done, size_t total) {
            report(QObject::tr("Features of the fine-tuned model"),
                   0.35 + 0.35 * double(done) / double(total));
          };
          after = core::extractFeatures(*net, dataset, indices, info.preprocess, kept, opts);
          if (before.defined() && keptBefore != kept) {  // a sample failed in one pass only
            before = torch::Tensor();
            r.note = QObject::tr("no pre-trained map: the two passes read different samples");
          }
        }
        r.samples = kept;
        {
          torch::NoGradGuard noGrad;
          const auto probs =
              torch::softmax(net->classify(after.to(core::deviceOf(*net))).to(torch::kFloat), 1);
          const auto [conf, pred] = probs.max(1);
          for (int64_t i = 0; i < pred.size(0); ++i) {
            r.predicted.push_back(int(pred[i].item<int64_t>()));
            r.confidence.push_back(conf[i].item<double>());
          }
        }
        std::vector<int64_t> labels;
        for (size_t s : kept) {
          labels.push_back(dataset->samples[s].label);
          r.labels.push_back(dataset->samples[s].label);
        }
        const auto p0 = std::chrono::steady_clock::now();
        const auto project = [&](const torch::Tensor& f, double from, double to) {
          if (!umap) return core::pcaProjection(f, 2);
          core::UmapOptions u;
          u.seed = seed;
          u.cancel = &cancelled;
          u.progress = [&](const std::string& stage, int64_t done, int64_t total) {
            const double part = stage == "neighbours" ? 0.3 * double(done) / double(total)
                                                      : 0.3 + 0.7 * double(done) / double(total);
            report(QObject::tr("UMAP: %1").arg(QString::fromStdString(stage)),
                   from + (to - from) * part);
          };
          return core::umapProjection(f, u);
        };
        const bool haveBefore = before.defined();
        report(QObject::tr("Projecting"), 0.7);
        const auto xyAfter = project(after, haveBefore ? 0.85 : 0.7, 1.0);
        r.after = toPoints(xyAfter);
        r.knnAfter = core::knnAccuracy(xyAfter, labels, 5, 5000, seed);
        if (haveBefore) {
          const auto xyBefore = project(before, 0.7, 0.85);
          r.before = toPoints(xyBefore);
          r.knnBefore = core::knnAccuracy(xyBefore, labels, 5, 5000, seed);
        }
        const auto t1 = std::chrono::steady_clock::now();
        r.projectSeconds = std::chrono::duration<double>(t1 - p0).count();
        r.seconds = std::chrono::duration<double>(t1 - t0).count();
        return r;
      },
      [this](const EmbeddingMapResult& r) {
        poll_->stop();
        progress_->setVisible(false);
        compute_->setEnabled(true);
        cancel_->setEnabled(false);
        if (!r.error.isEmpty()) {
          status_->setText(tr("Could not compute the map: %1").arg(r.error));
          return;
        }
        result_ = r;
        status_->setText(
            tr("%1 points \u00b7 %2 in %3 s (projection %4 s)%5%6")
                .arg(r.samples.size())
                .arg(r.method)
                .arg(r.seconds, 0, 'f', 1)
                .arg(r.projectSeconds, 0, 'f', 1)
                .arg(r.featuresFromCache ? tr(" \u00b7 pre-trained features from the cache")
                                         : QString())
                .arg(r.note.isEmpty() ? QString() : QStringLiteral(" \u00b7 ") + r.note));
        draw();
        emit finished();
      });
}

void EmbeddingMapView::updateProgress() {
  if (!shared_) return;
  const auto r = shared_->read();
  if (r.stage.isEmpty()) return;
  progress_->setValue(int(1000 * r.fraction));
  const QString eta = r.fraction > 0.02 ? QStringLiteral(", ") + r.eta() : QString();
  status_->setText(tr("%1 (%2%)%3").arg(r.stage).arg(int(100 * r.fraction)).arg(eta));
}

void EmbeddingMapView::draw() {
  drawSide(before_, result_.before,
           result_.knnBefore >= 0 ? tr("Pre-trained backbone \u00b7 5-NN accuracy %1%")
                                        .arg(100 * result_.knnBefore, 0, 'f', 1)
                                  : tr("Pre-trained backbone"));
  drawSide(
      after_, result_.after,
      result_.knnAfter >= 0
          ? tr("Fine-tuned model \u00b7 5-NN accuracy %1%").arg(100 * result_.knnAfter, 0, 'f', 1)
          : tr("Fine-tuned model"));
}

void EmbeddingMapView::drawSide(QCustomPlot* plot, const QVector<QPointF>& points,
                                const QString& title) {
  plot->clearGraphs();
  plot->clearPlottables();
  lasso_ = nullptr;
  if (auto* t = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0))) t->setText(title);
  const auto dataset = explain_->dataset();
  const auto& names = explain_->info().classNames;
  const int classes = int(names.size());
  std::vector<QVector<double>> xs(size_t(std::max(classes, 1))), ys(xs.size());
  QVector<double> mx, my;
  for (int i = 0; i < points.size(); ++i) {
    const int c = std::clamp(result_.labels[size_t(i)], 0, std::max(classes, 1) - 1);
    xs[size_t(c)].push_back(points[i].x());
    ys[size_t(c)].push_back(points[i].y());
    if (result_.predicted[size_t(i)] != result_.labels[size_t(i)]) {
      mx.push_back(points[i].x());
      my.push_back(points[i].y());
    }
  }
  plot->legend->setVisible(!points.isEmpty() && classes <= 12);
  plot->legend->setFont(QFont(font().family(), 7));
  plot->legend->setBrush(QColor(255, 255, 255, 170));  // points stay visible beneath it
  plot->legend->setBorderPen(QPen(QColor(0, 0, 0, 60)));
  for (int c = 0; c < int(xs.size()); ++c) {
    if (xs[size_t(c)].isEmpty()) continue;
    auto* g = plot->addGraph();
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, classColour(c), 4));
    g->setData(xs[size_t(c)], ys[size_t(c)]);
    g->setName(c < classes ? QString::fromStdString(names[size_t(c)]) : QString::number(c));
    g->setAdaptiveSampling(false);
  }
  if (!mx.isEmpty()) {
    auto* g = plot->addGraph();
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QColor(0, 0, 0, 110), 4));
    g->setData(mx, my);
    g->setName(tr("mistake"));
  }
  plot->rescaleAxes();
  plot->xAxis->scaleRange(1.08);
  plot->yAxis->scaleRange(1.08);
  plot->replot();
}

QPointF EmbeddingMapView::pixelOf(int side, int i) const {
  const auto& pts = side == 0 ? result_.before : result_.after;
  const QCustomPlot* p = plot(side);
  return {p->xAxis->coordToPixel(pts[i].x()), p->yAxis->coordToPixel(pts[i].y())};
}

int EmbeddingMapView::nearest(int side, const QPointF& pixel, double maxDistance) const {
  const auto& pts = side == 0 ? result_.before : result_.after;
  int best = -1;
  double bestD = maxDistance * maxDistance;
  for (int i = 0; i < pts.size(); ++i) {
    const QPointF d = pixelOf(side, i) - pixel;
    const double d2 = d.x() * d.x() + d.y() * d.y();
    if (d2 <= bestD) bestD = d2, best = i;
  }
  return best;
}

void EmbeddingMapView::onPress(int side, QMouseEvent* e) {
  if (e->button() != Qt::LeftButton) return;
  lassoSide_ = side;
  lassoPixels_ = QPolygonF{e->position()};
  QCustomPlot* p = plot(side);
  lasso_ = new QCPCurve(p->xAxis, p->yAxis);
  lasso_->setPen(QPen(QColor(40, 40, 40), 1, Qt::DashLine));
  lasso_->setBrush(QColor(40, 40, 40, 30));
}

void EmbeddingMapView::onMove(int side, QMouseEvent* e) {
  if (lassoSide_ == side && (e->buttons() & Qt::LeftButton) && lasso_) {
    lassoPixels_ << e->position();
    QCustomPlot* p = plot(side);
    lasso_->addData(p->xAxis->pixelToCoord(e->position().x()),
                    p->yAxis->pixelToCoord(e->position().y()));
    p->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const int i = nearest(side, e->position(), 6);
  if (i >= 0 && i != hovered_) showHover(i);
}

void EmbeddingMapView::onRelease(int side, QMouseEvent* e) {
  if (lassoSide_ != side || e->button() != Qt::LeftButton) return;
  lassoPixels_ << e->position();
  const QPolygonF polygon = lassoPixels_;
  lassoSide_ = -1;
  lassoPixels_.clear();
  QCustomPlot* p = plot(side);
  if (lasso_) {
    p->removePlottable(lasso_);
    lasso_ = nullptr;
    p->replot();
  }
  const QRectF box = polygon.boundingRect();
  if (box.width() < 4 && box.height() < 4) {  // a click: the point under the mouse
    const int i = nearest(side, e->position(), 6);
    if (i >= 0) {
      const QPointF c = pixelOf(side, i);
      selectInPolygon(side, QPolygonF{c + QPointF(-1, -1), c + QPointF(1, -1), c + QPointF(1, 1),
                                      c + QPointF(-1, 1)});
    }
    return;
  }
  selectInPolygon(side, polygon);
}

void EmbeddingMapView::selectInPolygon(int side, const QPolygonF& polygon) {
  const auto& pts = side == 0 ? result_.before : result_.after;
  const auto dataset = explain_->dataset();
  if (!dataset) return;
  const auto& names = explain_->info().classNames;
  const auto name = [&](int c) {
    return c >= 0 && c < int(names.size()) ? QString::fromStdString(names[size_t(c)])
                                           : QString::number(c);
  };
  QVector<GalleryItem> items;
  for (int i = 0; i < pts.size(); ++i) {
    if (!polygon.containsPoint(pixelOf(side, i), Qt::OddEvenFill)) continue;
    GalleryItem g;
    g.sample = result_.samples[size_t(i)];
    g.trueClass = result_.labels[size_t(i)];
    g.predictedClass = result_.predicted[size_t(i)];
    g.trueLabel = name(g.trueClass);
    g.predictedLabel = name(g.predictedClass);
    g.confidence = result_.confidence[size_t(i)];
    if (g.sample < dataset->size())
      g.text = QString::fromStdString(dataset->samples[g.sample].text);
    items.push_back(g);
  }
  if (items.isEmpty()) return;
  emit samplesSelected(items, tr("%n sample(s) selected on the %1 map", nullptr, int(items.size()))
                                  .arg(side == 0 ? tr("pre-trained") : tr("fine-tuned")));
}

void EmbeddingMapView::showHover(int i) {
  hovered_ = i;
  const auto dataset = explain_->dataset();
  if (!dataset || i < 0 || size_t(i) >= result_.samples.size()) return;
  const size_t s = result_.samples[size_t(i)];
  const auto& names = explain_->info().classNames;
  const auto name = [&](int c) {
    return c >= 0 && c < int(names.size()) ? QString::fromStdString(names[size_t(c)]) : QString();
  };
  const QString caption =
      tr("sample %1\ntrue: %2\npredicted: %3 (%4%)")
          .arg(s)
          .arg(name(result_.labels[size_t(i)]), name(result_.predicted[size_t(i)]))
          .arg(100 * result_.confidence[size_t(i)], 0, 'f', 0);
  if (dataset->modality == core::Modality::Text) {
    hover_->setText(caption + QStringLiteral("\n\n") +
                    QString::fromStdString(dataset->samples[s].text).left(400));
    return;
  }
  hover_->setText(caption);
  const qreal ratio = screenPixelRatio();
  hoverTask_.start([dataset, s, ratio] { return sampleImage(*dataset, s, 128, ratio); },
                   [this, caption](const QImage& img) {
                     if (img.isNull()) return;
                     hover_->setPixmap(QPixmap::fromImage(img));
                     hover_->setToolTip(caption);
                   });
}

}  // namespace tlab::ui
