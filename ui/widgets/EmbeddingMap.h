#pragma once
// The embedding map: 2-D maps of the penultimate features of a split, side by side for the
// pre-trained backbone and the fine-tuned model, so fine-tuning's effect on the classes is seen.
// Points are coloured by true class, mistakes are crossed; hovering shows the sample; a click
// or a lasso (drag around points) opens those samples in the gallery. PCA (exact) or UMAP
// (seeded), computed in the background with progress, ETA and Cancel; a k-NN accuracy on each
// map says in one number how well the classes separate there.
#include <QPolygonF>
#include <QVector>
#include <QWidget>
#include <memory>
#include <vector>

#include "ui/controllers/EvaluateController.h"
#include "ui/workers/Async.h"
#include "ui/workers/ProgressTracker.h"

class QComboBox;
class QCustomPlot;
class QCPCurve;
class QLabel;
class QMouseEvent;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace tlab::ui {
class ExplainController;

/// What one computation produced (both maps share the samples).
struct EmbeddingMapResult {
  std::vector<size_t> samples;
  std::vector<int> labels, predicted;
  std::vector<double> confidence;
  QVector<QPointF> before, after;  ///< pre-trained, fine-tuned (before empty: not available)
  double knnBefore = -1, knnAfter = -1;
  double seconds = 0, projectSeconds = 0;
  QString method, note, error;
  bool featuresFromCache = false;  ///< the pre-trained features came from the feature cache
};

class EmbeddingMapView : public QWidget {
  Q_OBJECT
 public:
  EmbeddingMapView(ExplainController* explain, QWidget* parent = nullptr);
  ~EmbeddingMapView() override;

  /// Starts a computation with the current settings (split, method, points).
  void compute();
  void cancel();
  bool isComputing() const { return task_.isRunning(); }
  const EmbeddingMapResult& result() const { return result_; }
  /// 0: pre-trained, 1: fine-tuned.
  QCustomPlot* plot(int side) const { return side == 0 ? before_ : after_; }
  /// Where result().samples[i] is drawn on `side`, in widget pixels of plot(side).
  QPointF pixelOf(int side, int i) const;
  /// Selects the points inside `polygon` (plot pixels) of `side` and opens them in the gallery.
  void selectInPolygon(int side, const QPolygonF& polygon);
  QComboBox* methodBox() const { return method_; }
  QComboBox* splitBox() const { return split_; }
  QLabel* hoverLabel() const { return hover_; }

 signals:
  void samplesSelected(const QVector<tlab::ui::GalleryItem>& items, const QString& title);
  void finished();

 private:
  void draw();
  void drawSide(QCustomPlot* plot, const QVector<QPointF>& points, const QString& title);
  void onPress(int side, QMouseEvent* e);
  void onMove(int side, QMouseEvent* e);
  void onRelease(int side, QMouseEvent* e);
  int nearest(int side, const QPointF& pixel, double maxDistance) const;
  void showHover(int i);
  void updateProgress();

  ExplainController* explain_;
  QComboBox *split_, *method_;
  QSpinBox* maxPoints_;
  QPushButton *compute_, *cancel_;
  QProgressBar* progress_;
  QLabel *status_, *hover_;
  QCustomPlot *before_, *after_;
  QCPCurve* lasso_ = nullptr;
  int lassoSide_ = -1;
  QPolygonF lassoPixels_;
  QTimer* poll_;
  std::shared_ptr<ProgressTracker> shared_;  // written by the worker, read by the poll timer
  EmbeddingMapResult result_;
  Async<EmbeddingMapResult> task_{this};
  Async<QImage> hoverTask_{this};
  int hovered_ = -1;
};

}  // namespace tlab::ui
