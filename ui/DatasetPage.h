#pragma once
// The data page: what was opened, class balance per split, and every skipped file with its
// reason. Loading runs in DatasetController; this widget only shows results.
#include <QWidget>

namespace tlab::core {
class Dataset;
}
class QLabel;
class QProgressBar;
class QTableWidget;

namespace tlab::ui {
class ClassBalanceChart;
class DatasetController;

class DatasetPage : public QWidget {
  Q_OBJECT
 public:
  DatasetPage(DatasetController* controller, QWidget* parent = nullptr);
  QTableWidget* skippedTable() const { return skipped_; }
  ClassBalanceChart* chart() const { return chart_; }
  QString summaryText() const;

 private:
  void showDataset(const core::Dataset& dataset);

  QLabel* summary_;
  QProgressBar* progress_;
  ClassBalanceChart* chart_;
  QTableWidget* skipped_;
};

}  // namespace tlab::ui
