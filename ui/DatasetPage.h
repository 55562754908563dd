#pragma once
// The data page: what was opened, the samples (thumbnail grid or text table, with filters, a
// detail view, relabel/exclude), class balance per split, and every skipped file with its
// reason. Loading runs in DatasetController; this widget only shows results.
#include <QWidget>

namespace tlab::core {
class Dataset;
}
class QLabel;
class QProgressBar;
class QTableWidget;
class QTabWidget;

namespace tlab::ui {
class AugmentationPanel;
class ClassBalanceChart;
class DatasetController;
class ProjectController;
class SampleBrowser;

class DatasetPage : public QWidget {
  Q_OBJECT
 public:
  DatasetPage(DatasetController* controller, ProjectController* project, QWidget* parent = nullptr);
  QTableWidget* skippedTable() const { return skipped_; }
  ClassBalanceChart* chart() const { return chart_; }
  SampleBrowser* browser() const { return browser_; }
  AugmentationPanel* augmentation() const { return augmentation_; }
  /// Shows the augmentation panel (true) or the sample browser (false).
  void showAugmentation(bool show);
  QString summaryText() const;

 private:
  void showDataset(const core::Dataset& dataset);

  QLabel* summary_;
  QProgressBar* progress_;
  ClassBalanceChart* chart_;
  QTableWidget* skipped_;
  SampleBrowser* browser_;
  AugmentationPanel* augmentation_;
  QTabWidget* top_;
};

}  // namespace tlab::ui
