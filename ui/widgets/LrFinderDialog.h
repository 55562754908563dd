#pragma once
// Train -> Find Learning Rate: runs core::findLearningRate on the project's set-up off the GUI
// thread (the project's label edits and split applied to the source dataset there; progress,
// Cancel), plots loss against the learning rate (log scale) with the
// suggested rate marked, and "Apply" writes the suggestion into the project (undoable).
#include <QDialog>
#include <atomic>
#include <memory>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/dataset/Dataset.h"
#include "core/project/Project.h"
#include "core/train/LrFinder.h"
#include "ui/workers/Async.h"

class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
namespace tlab::ui {
class ProjectController;

class LrFinderDialog : public QDialog {
  Q_OBJECT
 public:
  LrFinderDialog(ProjectController* project, std::shared_ptr<const core::Dataset> dataset,
                 int steps = 100, QWidget* parent = nullptr);
  ~LrFinderDialog() override;
  /// Starts the sweep (also done by showEvent); for tests.
  void start();
  bool isRunning() const;
  const core::LrFinderResult& result() const { return result_; }
  QCustomPlot* plot() const { return plot_; }
  QPushButton* applyButton() const { return apply_; }

 signals:
  void finished();

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void showResult();

  ProjectController* project_;
  std::shared_ptr<const core::Dataset> dataset_;
  int steps_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::shared_ptr<std::atomic<int>> done_;
  core::LrFinderResult result_;
  QCustomPlot* plot_;
  QLabel* status_;
  QProgressBar* progress_;
  QPushButton *apply_, *cancelButton_;
  bool started_ = false;
  Async<core::LrFinderResult> task_;  // last: cancelled before the members its completion uses
};

}  // namespace tlab::ui
