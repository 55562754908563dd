#pragma once
// Runs training for the GUI: one core::Trainer at a time on its own thread, plus a queue of
// runs waiting their turn ("compare with from scratch" queues the twin). The trainer reports
// through a core::TrainerObserver on its thread; events are buffered under a mutex and drained
// on a 40 ms GUI-thread timer, so the GUI sees at most 25 updates a second whatever the step
// rate (signals carry whole batches of points). Pause/stop are atomics the trainer checks
// between batches. The destructor cancels the run and joins its thread.
//
// With setProcesses(N > 1), a run prepared from a project trains data-parallel on N local
// processes: rank 0 is this process's trainer (it reports as always); ranks 1..N-1 are
// `transferlab-cli train --project SNAPSHOT` children meeting it through a file in the run
// folder. Their problems appear in the log as "[rank r] ...". Pause is not offered there.
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVector>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/dataset/Dataset.h"
#include "core/project/Project.h"
#include "core/train/Trainer.h"
#include "ui/workers/Async.h"

class QProcess;

namespace tlab::ui {

struct BatchPoint {
  double step = 0;  ///< global step
  double loss = 0, accuracy = 0, learningRate = 0;
};

struct TrainProgress {
  qint64 step = 0, totalSteps = 0;
  double itemsPerSecond = 0;  ///< images or texts per second
  double etaSeconds = -1;     ///< -1: not known yet
  int epoch = 0, epochs = 0;
};

class TrainController : public QObject {
  Q_OBJECT
 public:
  explicit TrainController(QObject* parent = nullptr);
  ~TrainController() override;

  /// Queues `run` (config, id, folder) on `dataset`; starts it at once when nothing runs.
  /// `project` (the dataset's project) lets the run use several processes.
  void enqueue(const core::RunRecord& run, std::shared_ptr<const core::Dataset> dataset,
               std::optional<core::Project> project = std::nullopt);
  /// Processes for the runs that start from now on (1: this process only).
  void setProcesses(int processes) { processes_ = std::max(1, processes); }
  int processes() const { return processes_; }
  /// Where the other ranks' program is: TLAB_CLI_PATH, else transferlab-cli beside this
  /// executable (installed) or in the build tree's app/cli; empty if none.
  static QString cliProgram();
  /// Off the GUI thread, applies `project`'s label edits and split to `source` (the dataset the
  /// runs train on), then queues `runs` on it. Edits whose sample is gone are logged.
  void prepareAndEnqueue(std::vector<core::RunRecord> runs,
                         std::shared_ptr<const core::Dataset> source, core::Project project);
  /// Runs waiting for prepareAndEnqueue's dataset.
  bool isPreparing() const { return prepare_.isRunning(); }
  void pause();
  void resume();
  /// Cancels the current run (it ends as "cancelled") and drops the queue and the runs being
  /// prepared.
  void stop();
  /// stop(), then waits for the trainer thread and reports the run (runFinished) before
  /// returning: for closing the application.
  void shutdown();
  bool isRunning() const { return trainer_ != nullptr; }
  bool isPaused() const { return paused_; }
  QString currentRunId() const;
  int queuedRuns() const { return int(queue_.size()); }
  /// Queued commands the trainer applies between steps.
  void setLearningRate(double lr);
  void setFrozen(const QString& modulePath, bool frozen);

  /// The last finished run's full result (evaluation included) and model; null before any.
  std::shared_ptr<const core::TrainResult> lastResult() const { return lastResult_; }
  core::ImageClassifier lastModel() const { return lastModel_; }
  std::shared_ptr<const core::Dataset> lastDataset() const { return lastDataset_; }
  /// How many times the drain timer ran (tests check the throttling with it).
  qint64 drains() const { return drains_; }

 signals:
  void runStarted(const QString& id);
  void batchPoints(const QString& id, const QVector<tlab::ui::BatchPoint>& points);
  void epochFinished(const QString& id, const tlab::core::EpochMetrics& metrics);
  void progressed(const QString& id, const tlab::ui::TrainProgress& progress);
  /// Feature extraction or evaluation (what, how far, ETA): the latest report per drain.
  void taskProgressed(const QString& id, const tlab::core::TaskProgress& task);
  void logged(const QString& id, const QStringList& lines);
  void stateChanged(const QString& id, tlab::core::RunState state);
  /// The run ended (finished, cancelled or failed); `record` holds history and accuracies.
  void runFinished(const tlab::core::RunRecord& record);
  /// Its dataset could not be prepared (the record says why); the run never started.
  void runNotStarted(const tlab::core::RunRecord& record);

 private:
  class Observer;
  struct Pending;
  void startNext();
  void drain();
  void finishCurrent();

  struct Queued {
    core::RunRecord run;
    std::shared_ptr<const core::Dataset> dataset;
    std::optional<core::Project> project;
  };
  // Starts ranks 1..N-1 for `next`; the spec rank 0 joins with (worldSize 1: on its own).
  core::DistributedSpec startOtherRanks(const Queued& next);
  int processes_ = 1;
  int currentProcesses_ = 1;
  std::vector<QPointer<QProcess>> ranks_;  // ranks 1..N-1 of the current run
  std::deque<Queued> queue_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<core::Trainer> trainer_;
  core::RunRecord current_;
  std::shared_ptr<const core::Dataset> currentDataset_;
  bool paused_ = false;
  QTimer drainTimer_;
  qint64 drains_ = 0;
  std::shared_ptr<const core::TrainResult> lastResult_;
  core::ImageClassifier lastModel_;
  std::shared_ptr<const core::Dataset> lastDataset_;
  struct Prepared {
    std::shared_ptr<const core::Dataset> dataset;
    size_t staleEdits = 0;
    QString error;
  };
  std::vector<core::RunRecord> waiting_;  // runs whose dataset prepare_ is computing
  std::optional<core::Project> waitingProject_;
  Async<Prepared> prepare_{this};
};

}  // namespace tlab::ui

Q_DECLARE_METATYPE(tlab::ui::BatchPoint)
Q_DECLARE_METATYPE(tlab::ui::TrainProgress)
Q_DECLARE_METATYPE(tlab::core::EpochMetrics)
Q_DECLARE_METATYPE(tlab::core::RunRecord)
Q_DECLARE_METATYPE(tlab::core::RunState)
Q_DECLARE_METATYPE(tlab::core::TaskProgress)
