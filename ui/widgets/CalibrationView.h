#pragma once
// How far the model's confidence can be trusted, on the evaluated split: the reliability
// diagram (accuracy per confidence bin, before and after temperature scaling, against the
// diagonal) with the expected calibration error of each, and accuracy against coverage as the
// "unsure" threshold moves. Moving the threshold slider tells the rest of the workbench
// (thresholdChanged): Predict reports predictions below it as unsure, and exports keep it.
#include <QWidget>
#include <cstdint>
#include <vector>

class QCustomPlot;
class QLabel;
class QSlider;

namespace tlab::ui {

class CalibrationView : public QWidget {
  Q_OBJECT
 public:
  explicit CalibrationView(QWidget* parent = nullptr);
  /// `logits` N x classes (row-major), `labels` N; `temperature` is the run's fitted one;
  /// `what` names the evaluation ("run-2 · test split").
  void setData(const std::vector<float>& logits, const std::vector<int32_t>& labels,
               int64_t classes, double temperature, const QString& what);
  void clear();
  double threshold() const;
  void setThreshold(double threshold);
  double eceBefore() const { return eceBefore_; }
  double eceAfter() const { return eceAfter_; }
  QString summaryText() const;
  QString coverageText() const;
  QCustomPlot* reliabilityPlot() const { return reliability_; }
  QCustomPlot* coveragePlot() const { return coverage_; }
  QSlider* thresholdSlider() const { return slider_; }

 signals:
  void thresholdChanged(double threshold);

 private:
  void showThreshold();

  QCustomPlot *reliability_, *coverage_;
  QLabel *summary_, *coverageLabel_;
  QSlider* slider_;
  std::vector<double> confidence_;  // calibrated top probability per sample
  std::vector<uint8_t> correct_;
  double eceBefore_ = 0, eceAfter_ = 0, temperature_ = 1;
};

}  // namespace tlab::ui
