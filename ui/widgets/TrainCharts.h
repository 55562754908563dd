#pragma once
// Live training curves (QCustomPlot): loss (per batch, raw and smoothed, plus validation per
// epoch), accuracy (likewise) and learning rate, all against the global step; overlays of
// finished runs' validation curves for comparison. Appends are cheap; the actual replot is
// queued (rpQueuedReplot), so many appends per frame cost one paint.
#include <QVector>
#include <QWidget>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/project/Project.h"
#include "ui/controllers/TrainController.h"

class QCustomPlot;
class QCPGraph;
class QCPItemText;

namespace tlab::ui {

class TrainCharts : public QWidget {
  Q_OBJECT
 public:
  explicit TrainCharts(QWidget* parent = nullptr);

  void clear();
  void appendBatches(const QVector<BatchPoint>& points);
  /// Validation point at the step where the epoch ended.
  void appendEpoch(const core::EpochMetrics& epoch);
  /// Validation-accuracy-per-epoch curves of other runs (x: epoch) on the comparison chart.
  /// Without any, the chart says what it is for instead of showing an empty legend.
  void setOverlays(const std::vector<core::RunRecord>& runs);
  /// Whether the comparison chart shows its "tick runs to compare" hint; for tests.
  bool compareHintShown() const;

  /// Presenter mode (View menu): lines twice as thick, axis and legend text 1.5x, only the
  /// loss and accuracy charts; off restores the normal look exactly.
  void setPresenterMode(bool on);
  bool presenterMode() const { return lineScale_ > 1; }

  /// Points held by the live loss curve (raw per-batch losses); for tests.
  int lossPointCount() const;
  QCustomPlot* lossPlot() const { return loss_; }
  QCustomPlot* accuracyPlot() const { return accuracy_; }
  QCustomPlot* comparePlot() const { return compare_; }

 private:
  QCustomPlot* makePlot(const QString& yLabel);
  void rescale(QCustomPlot* plot);

  QCustomPlot *loss_, *accuracy_, *lr_, *compare_;
  QCPGraph *lossRaw_, *lossSmooth_, *lossVal_;
  QCPGraph *accRaw_, *accSmooth_, *accVal_;
  QCPGraph* lrGraph_;
  QCPItemText* compareHint_;
  double smoothLoss_ = 0, smoothAcc_ = 0, lastStep_ = 0;
  double correction_ = 1;
  double lineScale_ = 1, fontScale_ = 1;  ///< presenter mode: 2 and 1.5  ///< kSmoothing^n, for the
                                          ///< moving average's bias correction
};

}  // namespace tlab::ui
