#include "ui/controllers/ExplainController.h"

#include <QPainter>
#include <QPainterPath>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/Errors.h"
#include "core/dataset/Dataset.h"
#include "core/explain/Attribution.h"
#include "core/explain/Overlay.h"
#include "core/train/ModelInput.h"
#include "core/weights/StateDict.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {

core::ImageClassifier copyNetwork(const core::ImageClassifier& net,
                                  const core::ModelBundleInfo& info) {
  if (info.architecture.empty() || info.architecture == "torchscript") return net;
  try {
    auto copy =
        core::createArchitecture(info.architecture, info.head.numClasses, info.preprocess.channels);
    copy->replaceHead(info.head);
    const auto report = core::loadStateDict(*copy, core::stateDictOf(*net));
    if (!report.complete()) return net;
    copy->eval();
    return copy;
  } catch (const std::exception&) {
    return net;
  }
}

namespace {
QImage jet(const cv::Mat& map8) {
  cv::Mat colour;
  cv::applyColorMap(map8, colour, cv::COLORMAP_JET);
  QImage out(colour.cols, colour.rows, QImage::Format_ARGB32);
  for (int y = 0; y < colour.rows; ++y) {
    const auto* row = colour.ptr<cv::Vec3b>(y);
    auto* dst = reinterpret_cast<QRgb*>(out.scanLine(y));
    for (int x = 0; x < colour.cols; ++x) dst[x] = qRgb(row[x][2], row[x][1], row[x][0]);
  }
  return out;
}

}  // namespace

SampleMap sampleMapOf(const core::ClassMap& m, const cv::Mat& image, const core::Preprocess& pre) {
  SampleMap s;
  const auto map = m.map.contiguous();
  cv::Mat values(int(map.size(0)), int(map.size(1)), CV_32F, map.data_ptr<float>()), map8;
  values.convertTo(map8, CV_8U, 255.0);
  s.values = toQImage(map8);
  s.heat = jet(map8);
  const auto r = core::evalViewRegion(image.cols, image.rows, pre);
  s.region =
      QRectF(r.x / image.cols, r.y / image.rows, r.width / image.cols, r.height / image.rows);
  s.classIndex = int(m.classIndex);
  s.predicted = int(m.predicted);
  s.probability = m.probabilities.at(size_t(m.classIndex));
  if (const auto p = m.peak()) {
    const auto [x, y] = core::inputToImagePixel(*p, image.cols, image.rows, pre);
    s.peak = QPoint(x, y);
  }
  return s;
}

ExplainController::ExplainController(QObject* parent) : QObject(parent), poll_(new QTimer(this)) {
  poll_->setInterval(150);
  connect(poll_, &QTimer::timeout, this, [this] {
    if (!progress_) return;
    const auto r = progress_->read();
    if (r.total > 0) emit progress(int(r.done), int(r.total), r.eta());
  });
}
ExplainController::~ExplainController() = default;

void ExplainController::setModel(core::ImageClassifier net, const core::ModelBundleInfo& info,
                                 const core::TrainConfig& config, const QString& runId,
                                 std::shared_ptr<const core::Dataset> dataset) {
  cancel();
  maps_.clear();
  words_.clear();
  info_ = info;
  config_ = config;
  runId_ = runId;
  dataset_ = std::move(dataset);
  net_ = net ? copyNetwork(net, info) : nullptr;
  layers_.clear();
  if (net_ && !isText()) {
    torch::NoGradGuard noGrad;
    for (const auto& l :
         core::camLayers(*net_, info_.preprocess.inputSize, info_.preprocess.channels))
      layers_ << QString::fromStdString(l);
  }
  layer_ = layers_.isEmpty() ? QString() : layers_.last();
  if (targetClass_ >= int(info_.classNames.size())) targetClass_ = -1;
  emit modelChanged();
  emit settingsChanged();
}

void ExplainController::setLayer(const QString& layer) {
  if (layer == layer_ || !layers_.contains(layer)) return;
  layer_ = layer;
  emit settingsChanged();
}

void ExplainController::setTargetClass(int classIndex) {
  if (classIndex < -1 || classIndex >= int(info_.classNames.size())) classIndex = -1;
  if (classIndex == targetClass_) return;
  targetClass_ = classIndex;
  emit settingsChanged();
}

void ExplainController::setOverlaysOn(bool on) {
  if (on == overlaysOn_) return;
  overlaysOn_ = on;
  emit settingsChanged();
}

void ExplainController::setOpacity(double opacity) {
  opacity = std::clamp(opacity, 0.0, 1.0);
  if (std::abs(opacity - opacity_) < 1e-9) return;
  opacity_ = opacity;
  emit settingsChanged();
}

core::ImageClassifier ExplainController::networkCopy() const {
  return net_ ? copyNetwork(net_, info_) : nullptr;
}

QString ExplainController::methodName() const {
  if (isText()) return tr("integrated gradients");
  return layers_.isEmpty() ? tr("occlusion") : tr("Grad-CAM");
}

QString ExplainController::key(size_t sample) const {
  return QStringLiteral("%1|%2|%3|%4").arg(runId_).arg(sample).arg(targetClass_).arg(layer_);
}

const SampleMap* ExplainController::map(size_t sample) const {
  const auto it = maps_.constFind(key(sample));
  return it == maps_.constEnd() ? nullptr : &it.value();
}

const SampleWords* ExplainController::words(size_t sample) const {
  const auto it = words_.constFind(key(sample));
  return it == words_.constEnd() ? nullptr : &it.value();
}

void ExplainController::cancel() {
  task_.cancel();
  pending_.clear();
  poll_->stop();
}

void ExplainController::request(const std::vector<size_t>& samples) {
  if (!net_ || !dataset_) return;
  std::vector<size_t> missing;
  for (size_t s : samples) {
    if (s < dataset_->size() && !maps_.contains(key(s)) && !words_.contains(key(s)))
      missing.push_back(s);
  }
  if (missing.empty()) return;
  if (task_.isRunning()) {  // after the running job, in order
    pending_.insert(pending_.end(), missing.begin(), missing.end());
    return;
  }
  auto tracker = std::make_shared<ProgressTracker>();
  const int total = int(missing.size());
  const std::string stage = tr("Explaining").toStdString();
  tracker->report(stage, 0, size_t(total));
  progress_ = tracker;
  poll_->start();
  emit progress(0, total, QString());
  const auto net = net_;
  const auto info = info_;
  const auto dataset = dataset_;
  const int target = targetClass_;
  const std::string layer = layer_.toStdString();
  QStringList keys;
  for (size_t s : missing) keys << key(s);
  task_.start(
      [net, info, dataset, target, layer, missing, keys, tracker,
       stage](const std::atomic<bool>& cancelled) {
        Batch out;
        const auto& pre = info.preprocess;
        for (size_t i = 0; i < missing.size(); ++i) {
          if (cancelled) break;
          const size_t s = missing[i];
          if (pre.tokenizer) {
            SampleWords w;
            try {
              const auto a =
                  core::integratedGradients(*net, *pre.tokenizer, dataset->samples[s].text,
                                            size_t(pre.inputSize), target, 24);
              for (const auto& word : a.words) {
                w.words << QString::fromStdString(word.word);
                w.scores << word.score;
              }
              w.classIndex = int(a.classIndex);
              w.predicted = int(a.predicted);
              w.probability = a.probabilities.at(size_t(a.classIndex));
            } catch (const std::exception& e) {
              w.error = QString::fromUtf8(e.what());
            }
            out.words.push_back({keys[int(i)], w});
          } else {
            SampleMap m;
            const auto img = dataset->loadImage(s);
            if (!img.ok()) {
              m.error = QString::fromStdString(img.error);
            } else {
              try {
                const auto x = core::imageInput(img.pixels, pre);
                core::OcclusionOptions occlusion;
                occlusion.cancel = &cancelled;
                const auto cm = layer.empty() ? core::occlusionMap(*net, x, target, occlusion)
                                              : core::gradCam(*net, x, {target}, layer)[0];
                m = sampleMapOf(cm, img.pixels, pre);
              } catch (const std::exception& e) {
                m.error = QString::fromUtf8(e.what());
              }
            }
            out.maps.push_back({keys[int(i)], m});
          }
          tracker->report(stage, i + 1, missing.size());
        }
        return out;
      },
      [this, total](const Batch& b) {
        poll_->stop();
        for (const auto& [k, m] : b.maps) maps_.insert(k, m);
        for (const auto& [k, w] : b.words) words_.insert(k, w);
        emit progress(total, total, QString());
        emit mapsReady();
        if (!pending_.empty()) request(std::exchange(pending_, {}));
      });
}

QImage overlayImage(const QImage& image, const SampleMap& map, double opacity) {
  if (image.isNull() || map.heat.isNull()) return image;
  QImage out = image.convertToFormat(QImage::Format_ARGB32);
  const QRectF r(map.region.x() * image.width(), map.region.y() * image.height(),
                 map.region.width() * image.width(), map.region.height() * image.height());
  QPainter p(&out);
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  p.setOpacity(std::clamp(opacity, 0.0, 1.0));
  p.drawImage(r, map.heat);
  if (map.region.width() < 0.999 || map.region.height() < 0.999) {  // dim what it did not see
    p.setOpacity(0.45);
    QPainterPath outside;
    outside.addRect(QRectF(out.rect()));
    QPainterPath seen;
    seen.addRect(r);
    p.fillPath(outside.subtracted(seen), Qt::black);
  }
  return out;
}

QString highlightWordsHtml(const SampleWords& w) {
  double peak = 1e-12;
  for (double s : w.scores) peak = std::max(peak, std::abs(s));
  QString html;
  for (int i = 0; i < w.words.size(); ++i) {
    const double s = w.scores.value(i) / peak;
    const double a = std::min(1.0, std::abs(s)) * 0.8;  // blended over white: plain HTML colours
    const QColor base = s >= 0 ? QColor(0, 170, 0) : QColor(220, 0, 0);
    const QColor c(int(255 + (base.red() - 255) * a), int(255 + (base.green() - 255) * a),
                   int(255 + (base.blue() - 255) * a));
    html += QStringLiteral("<span style=\"background-color:%1\" title=\"%2\">%3</span> ")
                .arg(c.name())
                .arg(w.scores.value(i), 0, 'g', 3)
                .arg(w.words[i].toHtmlEscaped());
  }
  return html.trimmed();
}

}  // namespace tlab::ui
