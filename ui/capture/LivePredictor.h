#pragma once
// Live prediction on a stream of frames: at most one frame is being predicted at a time, off the
// GUI thread; a frame that arrives meanwhile waits, and a newer one replaces it (the older is
// dropped and counted), so the result always describes a frame at most one inference old and
// the latency never grows with a queue. The model is the Predict page's (the last run's, or an
// opened bundle), shared, not copied. Header without LibTorch: the model lives in the .cpp.
#include <QElapsedTimer>
#include <QImage>
#include <QObject>
#include <QString>
#include <deque>
#include <memory>

#include "ui/workers/Async.h"

namespace tlab::ui {

class PredictController;
struct Prediction;

class LivePredictor : public QObject {
  Q_OBJECT
 public:
  explicit LivePredictor(QObject* parent = nullptr);
  ~LivePredictor() override;

  /// Takes the predict controller's current model (none: clears it). Text models are refused:
  /// hasModel() stays false and modelProblem() says why.
  void setModelFrom(const PredictController& predict);
  bool hasModel() const;
  /// A frame is being predicted (or waits).
  bool isBusy() const { return busy_; }
  QString modelName() const { return name_; }
  QString modelProblem() const { return problem_; }
  void setTopK(int k) { topK_ = k; }
  /// Also computes the Grad-CAM map of the predicted class at the last convolutional stage for
  /// each predicted frame (overlay()); about doubles the time per prediction. Off for networks
  /// without a spatial layer (imported TorchScript), where canExplain() is false.
  void setGradCam(bool on);
  bool gradCam() const { return gradCam_; }
  bool canExplain() const;

  /// A new frame; ignored without a model.
  void submit(const QImage& frame);
  /// Drops the waiting frame and the running one's result (statistics are kept).
  void cancel();

  struct Stats {
    qint64 predicted = 0, dropped = 0;
    double perSecond = 0;                     ///< predictions per second over the last 2 s
    double p50Ms = 0, p99Ms = 0, lastMs = 0;  ///< frame arrival to result, last 200 frames
  };
  Stats stats() const;
  void resetStats();

  struct Model;  // opaque: the network and its Grad-CAM copy (LivePredictor.cpp)
  struct Result;

 signals:
  void predicted(const tlab::ui::Prediction& prediction, double latencyMs);
  /// The predicted frame with its Grad-CAM heat map over it (only with setGradCam(true)).
  void overlay(const QImage& image);

 private:
  void run(const QImage& frame, qint64 arrivedNs);
  std::shared_ptr<Model> model_;
  QString name_, problem_;
  int topK_ = 3;
  bool gradCam_ = false;
  QElapsedTimer clock_;
  QImage pending_;
  qint64 pendingNs_ = 0;
  bool busy_ = false;
  qint64 predicted_ = 0, dropped_ = 0;
  std::deque<double> latencies_;
  std::deque<qint64> doneNs_;
  std::unique_ptr<Async<std::shared_ptr<Result>>> task_;
};

}  // namespace tlab::ui
