#pragma once
// The Train page: hyper-parameter form, Start / Pause / Stop, "compare with from scratch" and
// "compare strategies" (twin runs queued), live charts, progress with ETA and throughput, a log,
// and the list of runs (check runs to overlay their validation curves). It turns user actions
// into project edits (ProjectController) and queued runs (TrainController); no training logic.
#include <QWidget>
#include <memory>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/dataset/Dataset.h"
#include "core/project/Project.h"

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace tlab::ui {
class DataEfficiencyDialog;
class DatasetController;
class ProjectController;
class TrainController;
class TrainCharts;
class TrainSettingsForm;

class TrainPage : public QWidget {
  Q_OBJECT
 public:
  TrainPage(ProjectController* project, DatasetController* datasets, TrainController* trainer,
            QWidget* parent = nullptr);

  /// Queues a run of the project's current set-up (strategy overridden when given); returns
  /// false with a reason shown on the page when no dataset is loaded.
  bool startRun();
  bool compareWithScratch();
  /// Queues a run of the project's set-up named `name` (e.g. after reviewing data issues).
  bool startRunNamed(const std::string& name);
  bool compareStrategies();
  /// The LR-finder dialog on the project's set-up and dataset (modal; Apply sets the rate).
  void findLearningRate();
  /// Train -> Data-Efficiency Curve (non-modal); nullptr with a status message when no dataset
  /// is open.
  DataEfficiencyDialog* showDataEfficiency();
  /// The same with only the named strategies (core::kStrategyNames) ticked.
  DataEfficiencyDialog* showDataEfficiencyFor(const QStringList& strategies);
  /// Presenter mode: the run buttons, progress, run list and the two main charts, large; the
  /// settings form, the log and the expert buttons hidden.
  void setPresenterMode(bool on);
  /// The runs a report covers: the checked ones, else the current one (ids).
  QStringList reportRunIds() const;
  /// Writes the report of `runIds` (one run, or a comparison) to `path` (.html or .pdf) and
  /// reads it back; false with `error` naming the file and the problem.
  bool exportReport(const QString& path, const QStringList& runIds, QString* error);
  /// Train -> Export Report...: asks for the file, then exportReport().
  void exportReportInteractive();
  QPushButton* reportButton() const { return report_; }
  TrainCharts* charts() const { return charts_; }
  TrainSettingsForm* settingsForm() const { return form_; }
  QPlainTextEdit* log() const { return log_; }
  QTreeWidget* runList() const { return runs_; }
  /// Processes a run trains on (data-parallel on this machine when more than one).
  QSpinBox* processesBox() const { return processes_; }

 private:
  bool presenter_ = false;  // View -> Presenter Mode, passed on to the dialogs this page opens
  void buildLayout();
  void connectControls();
  void connectTrainer();
  void connectProgress();
  bool queue(std::vector<std::pair<core::TrainConfig, std::string>> runs);
  void refreshRuns();
  void refreshButtons();
  void appendLog(const QStringList& lines);

  ProjectController* project_;
  DatasetController* datasets_;
  TrainController* trainer_;
  TrainSettingsForm* form_;
  TrainCharts* charts_;
  QPushButton *start_, *pause_, *stop_, *scratch_, *strategies_, *lrFinder_, *report_;
  QSpinBox* processes_;
  QLabel* processesLabel_ = nullptr;
  QProgressBar* progress_;
  QLabel* status_;
  QPlainTextEdit* log_;
  QTreeWidget* runs_;
};

}  // namespace tlab::ui
