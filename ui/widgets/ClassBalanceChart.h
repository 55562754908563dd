#pragma once
// Class distribution as stacked bars (train / val / test / unassigned) with class names on the
// x axis. Shows a warning line when the largest class is more than 3x the smallest.
#include <QWidget>

#include "core/dataset/Dataset.h"

class QCustomPlot;
class QLabel;

namespace tlab::ui {

class ClassBalanceChart : public QWidget {
  Q_OBJECT
 public:
  explicit ClassBalanceChart(QWidget* parent = nullptr);
  void setDataset(const core::Dataset& dataset);
  /// Largest over smallest class count; 0 when there is nothing to compare.
  double imbalanceRatio() const { return imbalance_; }
  QCustomPlot* plot() const { return plot_; }

 private:
  QCustomPlot* plot_;
  QLabel* warning_;
  double imbalance_ = 0;
};

}  // namespace tlab::ui
