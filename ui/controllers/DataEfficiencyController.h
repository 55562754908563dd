#pragma once
// Train -> Data-Efficiency Curve: runs core::runDataEfficiency on the project's set-up (its
// label edits and split applied to the source dataset, off the GUI thread) and hands the finished
// runs to the GUI as they come, with the stage, how far and the time left; cancel keeps what
// finished. The worker never touches the controller: finished rows and progress go through a
// shared, locked state that a timer on the GUI thread drains. GUI thread only.
#include <QObject>
#include <QString>
#include <memory>
#include <vector>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/dataset/Dataset.h"
#include "core/project/Project.h"
#include "core/train/DataEfficiency.h"
#include "ui/workers/Async.h"

class QTimer;

namespace tlab::ui {

class DataEfficiencyController : public QObject {
  Q_OBJECT
 public:
  explicit DataEfficiencyController(QObject* parent = nullptr);
  ~DataEfficiencyController() override;

  /// Starts the experiment for `project`'s config on `source` (a running one is cancelled).
  void start(const core::Project& project, std::shared_ptr<const core::Dataset> source,
             const core::DataEfficiencyPlan& plan);
  /// Stops after the current step; the finished runs stay.
  void cancel();
  bool isRunning() const { return task_.isRunning(); }

  const std::vector<core::DataEfficiencyRow>& rows() const { return rows_; }
  std::vector<core::CurvePoint> points() const { return core::summarizeCurve(rows_); }
  /// The sizes being run (known once the split is made; empty before).
  const std::vector<int>& perClass() const { return perClass_; }
  int totalRuns() const { return totalRuns_; }
  double seconds() const { return seconds_; }

 signals:
  void started();
  /// A run finished: rows() has it.
  void runFinished(int index);
  /// The run in progress, the share of runs done (0..1), and the time left ("" while unknown).
  void progress(const QString& stage, double fraction, const QString& eta);
  void finished(bool cancelled);
  void failed(const QString& message);

 private:
  struct Shared;
  struct Outcome {
    core::DataEfficiencyResult result;
    QString error;
  };
  void drain();

  std::shared_ptr<Shared> shared_;
  std::vector<core::DataEfficiencyRow> rows_;
  std::vector<int> perClass_;
  int totalRuns_ = 0;
  double seconds_ = 0;
  QTimer* poll_;
  Async<Outcome> task_{this};  // last: cancelled before the members its completion uses
};

}  // namespace tlab::ui
