#pragma once
// Train -> Data-Efficiency Curve: the central figure of transfer learning, live. The user picks
// the strategies (linear probe, fine-tuning, from scratch), the labelled samples per class and
// the seeds; the runs go to DataEfficiencyController, and the plot (test accuracy against samples
// per class, log axis, one line per strategy through the means, min-max bars over seeds) and the
// table grow as runs finish. Save writes results.csv and the plot as PNG, each read back.
#include <QDialog>
#include <QMap>
#include <QMessageBox>
#include <functional>
#include <memory>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/dataset/Dataset.h"
#include "core/train/DataEfficiency.h"

class QCheckBox;
class QCustomPlot;
class QCPGraph;
class QCPErrorBars;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace tlab::ui {
class DataEfficiencyController;
class ProjectController;

class DataEfficiencyDialog : public QDialog {
  Q_OBJECT
 public:
  DataEfficiencyDialog(ProjectController* project, std::shared_ptr<const core::Dataset> dataset,
                       QWidget* parent = nullptr);
  ~DataEfficiencyDialog() override;

  /// The plan from the form; throws core::InvalidArgument naming a bad entry.
  core::DataEfficiencyPlan plan() const;
  /// Starts with plan() (also the Start button); false and a message when the form is invalid.
  bool start();
  /// Writes `csvPath` and the plot beside it (same name, .png), then reads both back; false
  /// with `error` set when either is missing or differs.
  bool saveTo(const QString& csvPath, QString* error);

  /// Asks the user a question (a message box); tests replace it to answer without a dialog.
  using Ask = std::function<QMessageBox::StandardButton(const QString& text,
                                                        QMessageBox::StandardButtons buttons)>;
  void setAsk(Ask ask) { ask_ = std::move(ask); }
  /// Closing (or Escape) while runs go on asks before stopping them; closing with finished runs
  /// that were never saved offers to save them first.
  void reject() override;

  DataEfficiencyController* controller() const { return controller_; }
  QCustomPlot* plot() const { return plot_; }
  /// View -> Presenter Mode (TrainPage passes it on): the curve's lines, points and error bars
  /// kPresenterLineScale times thicker, its axis and legend text kPresenterFontScale larger.
  void setPresenterMode(bool on);
  QTableWidget* table() const { return table_; }
  QLineEdit* sizesEdit() const { return sizes_; }
  QSpinBox* seedsBox() const { return seeds_; }
  QCheckBox* strategyBox(core::Strategy s) const { return strategyBoxes_.value(int(s)); }
  QPushButton* startButton() const { return start_; }
  QPushButton* stopButton() const { return stop_; }
  QLabel* status() const { return status_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  /// True when the dialog may close now (asked where runs or unsaved results would be lost).
  bool confirmClose();
  void refresh();
  void setRunning(bool running);
  void save();

  ProjectController* project_;
  std::shared_ptr<const core::Dataset> dataset_;
  DataEfficiencyController* controller_;
  QMap<int, QCheckBox*> strategyBoxes_;
  QLineEdit* sizes_;
  QSpinBox* seeds_;
  QPushButton *start_, *stop_, *save_;
  QLabel* status_;
  QProgressBar* progress_;
  QCustomPlot* plot_;
  double lineScale_ = 1, fontScale_ = 1;
  QTableWidget* table_;
  QMap<int, QPair<QCPGraph*, QCPErrorBars*>> series_;  // per strategy
  Ask ask_;
  bool saved_ = true;     // every finished run is in a saved CSV
  bool closing_ = false;  // inside closeEvent, whose QDialog part calls reject()
};

}  // namespace tlab::ui
