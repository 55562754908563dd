#pragma once
// The data page: what was opened, the samples (thumbnail grid or text table, with filters, a
// detail view, relabel/exclude), the augmentation settings and preview, class balance per
// split as training will split it, and every skipped file with its reason. Loading runs in
// DatasetController; this widget only shows results.
#include <QElapsedTimer>
#include <QWidget>
#include <memory>
#include <vector>

#include "core/dataset/Dataset.h"
#include "ui/workers/Async.h"

namespace tlab::core {
class Dataset;
}
class QLabel;
class QPushButton;
class QProgressBar;
class QTableWidget;
class QTabWidget;

namespace tlab::ui {
class AugmentationPanel;
class ClassBalanceChart;
class DataIssuesController;
class DataIssuesView;
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
  DataIssuesView* issuesView() const { return issuesView_; }
  DataIssuesController* issues() const { return issues_; }
  /// Shows the "Data issues" tab.
  void showIssues();
  /// Shows the augmentation panel (true) or the sample browser (false).
  void showAugmentation(bool show);
  QString summaryText() const;

 private:
  void setUpWidgets();
  void buildLayout();
  void connectController(DatasetController* controller);
  void showDataset(const core::Dataset& dataset);
  /// Recomputes, off the GUI thread, the split training will use (project label edits and
  /// split settings applied) and shows it in the class balance chart.
  void refreshBalance();
  struct BalanceResult {
    std::shared_ptr<const core::Dataset> training;  // null: bad split settings
    std::vector<core::Split> splits;                // per sample of the source
  };

  QLabel* summary_;
  QProgressBar* progress_;
  ClassBalanceChart* chart_;
  QTableWidget* skipped_;
  SampleBrowser* browser_;
  AugmentationPanel* augmentation_;
  DataIssuesController* issues_;
  DataIssuesView* issuesView_;
  QTabWidget* top_;
  QPushButton* cancel_;
  QElapsedTimer openClock_;
  ProjectController* project_;
  std::shared_ptr<const core::Dataset> dataset_;
  Async<BalanceResult> balanceTask_{this};
};

}  // namespace tlab::ui
