#pragma once
// The data page: what was opened, the samples (thumbnail grid or text table, with filters, a
// detail view, relabel/exclude), the augmentation settings and preview, class balance per
// split as training will split it, and every skipped file with its reason. Loading runs in
// DatasetController; this widget only shows results.
#include <QWidget>
#include <memory>

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
  /// Recomputes, off the GUI thread, the split training will use (project label edits and
  /// split settings applied) and shows it in the class balance chart.
  void refreshBalance();

  QLabel* summary_;
  QProgressBar* progress_;
  ClassBalanceChart* chart_;
  QTableWidget* skipped_;
  SampleBrowser* browser_;
  AugmentationPanel* augmentation_;
  QTabWidget* top_;
  ProjectController* project_;
  std::shared_ptr<const core::Dataset> dataset_;
  quint64 balanceGeneration_ = 0;
};

}  // namespace tlab::ui
