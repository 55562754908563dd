#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include "ui/capture/LivePredictor.h"

#include <algorithm>
#include <mutex>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "core/explain/Attribution.h"
#include "core/train/ModelInput.h"
#include "ui/controllers/ExplainController.h"
#include "ui/controllers/PredictController.h"
#include "ui/workers/Thumbnail.h"

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

/// The model for a network, with its own copy for Grad-CAM when `withCamNet` (and the network has
/// a spatial layer).
std::shared_ptr<LivePredictor::Model> makeModel(core::ImageClassifier net,
                                                const core::ModelBundleInfo& info,
                                                const std::string& camLayer, bool withCamNet) {
  auto m = std::make_shared<LivePredictor::Model>();
  m->net = std::move(net);
  m->info = info;
  m->camLayer = camLayer;
  if (withCamNet && !camLayer.empty()) m->camNet = copyNetwork(m->net, m->info);
  return m;
}

/// One frame through the model: the input is built once and serves the prediction and, with
/// `cam`, the Grad-CAM overlay of the predicted class.
void predictInto(LivePredictor::Model& m, const QImage& frame, int topK, bool cam,
                 LivePredictor::Result& r) {
  const QImage rgb = frame.convertToFormat(QImage::Format_RGB888);
  const cv::Mat pixels = rgbView(rgb);
  torch::Tensor x;
  try {
    x = core::imageInput(pixels, m.info.preprocess);  // copies into the tensor
  } catch (const std::exception& e) {
    r.prediction.error = QString::fromStdString(e.what());
    return;
  }
  r.prediction = predictFrame(m.net, m.info, x, topK);
  if (!cam || !m.camNet || m.camLayer.empty() || !r.prediction.error.isEmpty()) return;
  try {
    std::lock_guard<std::mutex> lock(m.camMutex);
    const auto maps = core::gradCam(*m.camNet, x, {-1}, m.camLayer);
    r.overlay = overlayImage(rgb, sampleMapOf(maps.at(0), pixels, m.info.preprocess), 0.5);
  } catch (const std::exception& e) {
    r.prediction.error = QString::fromStdString(e.what());
  }
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
  const auto& pre = predict.info().preprocess;
  model_ =
      makeModel(predict.network(), predict.info(),
                core::defaultCamLayer(*predict.network(), pre.inputSize, pre.channels), gradCam_);
  name_ = predict.modelName();
}

bool LivePredictor::canExplain() const { return model_ && !model_->camLayer.empty(); }

void LivePredictor::setGradCam(bool on) {
  gradCam_ = on;
  if (!model_ || !on || model_->camNet || model_->camLayer.empty()) return;
  // The copy is made once, when first asked for; a running job keeps the model it started with.
  auto m = makeModel(model_->net, model_->info, model_->camLayer, true);
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
  const auto model = model_;
  const int k = topK_;
  const bool cam = gradCam_;
  task_->start(
      [model, frame, arrivedNs, k, cam] {
        auto r = std::make_shared<Result>();
        predictInto(*model, frame, k, cam, *r);
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
