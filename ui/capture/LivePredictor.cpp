#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include "ui/capture/LivePredictor.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "core/explain/Attribution.h"
#include "core/train/ModelInput.h"
#include "ui/controllers/ExplainController.h"
#include "ui/controllers/PredictController.h"

namespace tlab::ui {

struct LivePredictor::Model {
  core::ImageClassifier net;
  core::ModelBundleInfo info;
  core::ImageClassifier camNet;  ///< a copy that Grad-CAM taps (copyNetwork); null: no overlay
  std::string camLayer;          ///< empty: the network has no spatial layer
  std::mutex camMutex;  ///< a cancelled job may still be tapping camNet when the next starts
};

struct LivePredictor::Result {
  Prediction prediction;
  QImage overlay;
  qint64 arrivedNs = 0;
};

namespace {

QImage overlayOf(LivePredictor::Model& m, const QImage& frame, const Prediction& p) {
  if (!m.camNet || m.camLayer.empty() || !p.error.isEmpty()) return {};
  const QImage rgb = frame.convertToFormat(QImage::Format_RGB888);
  const cv::Mat pixels(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.bits()),
                       size_t(rgb.bytesPerLine()));
  const auto x = core::imageInput(pixels, m.info.preprocess);
  std::lock_guard<std::mutex> lock(m.camMutex);
  const auto maps = core::gradCam(*m.camNet, x, {-1}, m.camLayer);
  return overlayImage(rgb, sampleMapOf(maps.at(0), pixels, m.info.preprocess), 0.5);
}

}  // namespace

LivePredictor::LivePredictor(QObject* parent)
    : QObject(parent), task_(std::make_unique<Async<std::shared_ptr<Result>>>(this)) {
  qRegisterMetaType<Prediction>();
  clock_.start();
}

LivePredictor::~LivePredictor() = default;

void LivePredictor::setModelFrom(const PredictController& predict) {
  cancel();
  model_.reset();
  name_.clear();
  problem_.clear();
  if (!predict.hasModel()) {
    problem_ = tr("No model yet: train one (Train page), or open a model on the Predict page.");
    return;
  }
  if (predict.isText()) {
    problem_ =
        tr("%1 is a text model; live prediction needs an image model.").arg(predict.modelName());
    return;
  }
  auto m = std::make_shared<Model>();
  m->net = predict.network();
  m->info = predict.info();
  const auto& pre = m->info.preprocess;
  m->camLayer = core::defaultCamLayer(*m->net, pre.inputSize, pre.channels);
  if (gradCam_ && !m->camLayer.empty()) m->camNet = copyNetwork(m->net, m->info);
  model_ = std::move(m);
  name_ = predict.modelName();
}

bool LivePredictor::canExplain() const { return model_ && !model_->camLayer.empty(); }

void LivePredictor::setGradCam(bool on) {
  gradCam_ = on;
  if (!model_ || !on || model_->camNet || model_->camLayer.empty()) return;
  auto m = std::make_shared<Model>();  // the copy is made once, when first asked for
  m->net = model_->net;
  m->info = model_->info;
  m->camLayer = model_->camLayer;
  m->camNet = copyNetwork(m->net, m->info);
  cancel();
  model_ = std::move(m);
}

bool LivePredictor::hasModel() const { return model_ != nullptr; }

void LivePredictor::submit(const QImage& frame) {
  if (!model_ || frame.isNull()) return;
  const qint64 now = clock_.nsecsElapsed();
  if (busy_) {
    if (!pending_.isNull()) ++dropped_;  // replaced before it was predicted
    pending_ = frame;
    pendingNs_ = now;
    return;
  }
  run(frame, now);
}

void LivePredictor::run(const QImage& frame, qint64 arrivedNs) {
  busy_ = true;
  const auto model = std::const_pointer_cast<Model>(model_);
  const int k = topK_;
  const bool cam = gradCam_;
  task_->start(
      [model, frame, arrivedNs, k, cam] {
        auto r = std::make_shared<Result>();
        r->prediction = predictFrame(model->net, model->info, frame, k);
        if (cam) {
          try {
            r->overlay = overlayOf(*model, frame, r->prediction);
          } catch (const std::exception& e) {
            r->prediction.error = QString::fromStdString(e.what());
          }
        }
        r->arrivedNs = arrivedNs;
        return r;
      },
      [this](const std::shared_ptr<Result>& r) {
        busy_ = false;
        if (r) {
          const qint64 now = clock_.nsecsElapsed();
          const double ms = double(now - r->arrivedNs) / 1e6;
          ++predicted_;
          latencies_.push_back(ms);
          if (latencies_.size() > 200) latencies_.pop_front();
          doneNs_.push_back(now);
          while (!doneNs_.empty() && now - doneNs_.front() > 2'000'000'000LL) doneNs_.pop_front();
          emit predicted(r->prediction, ms);
          if (!r->overlay.isNull()) emit overlay(r->overlay);
        }
        if (!pending_.isNull() && model_) {
          const QImage next = std::exchange(pending_, QImage());
          run(next, pendingNs_);
        }
      });
}

void LivePredictor::cancel() {
  task_->cancel();
  busy_ = false;
  pending_ = QImage();
}

LivePredictor::Stats LivePredictor::stats() const {
  Stats s;
  s.predicted = predicted_;
  s.dropped = dropped_;
  const qint64 now = clock_.nsecsElapsed();
  const auto recent = std::count_if(doneNs_.begin(), doneNs_.end(),
                                    [&](qint64 t) { return now - t <= 2'000'000'000LL; });
  s.perSecond = double(recent) / 2.0;
  if (!latencies_.empty()) {
    std::vector<double> v(latencies_.begin(), latencies_.end());
    std::sort(v.begin(), v.end());
    s.p50Ms = v[(v.size() - 1) / 2];
    s.p99Ms = v[size_t(0.99 * double(v.size() - 1))];
    s.lastMs = latencies_.back();
  }
  return s;
}

void LivePredictor::resetStats() {
  predicted_ = dropped_ = 0;
  latencies_.clear();
  doneNs_.clear();
}

}  // namespace tlab::ui
