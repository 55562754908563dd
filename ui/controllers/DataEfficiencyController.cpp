#include "ui/controllers/DataEfficiencyController.h"

#include <QTimer>
#include <algorithm>
#include <chrono>
#include <mutex>

#include "ui/workers/ProgressTracker.h"

namespace tlab::ui {

namespace {
// The experiment's own estimate after the last finished run, and when it was made.
struct Estimate {
  double secondsLeft = -1;
  std::chrono::steady_clock::time_point at;
};
}  // namespace

struct DataEfficiencyController::Shared {
  std::mutex mutex;
  std::vector<core::DataEfficiencyRow> pending;  // finished, not yet drained
  ProgressTracker progress{false};               // runs done of all runs, one clock
  core::TrainerControl control;
  Estimate estimate;  // guarded by mutex
};

namespace {

QString runLabel(const core::DataEfficiencyRun& r, int index, int total) {
  return QObject::tr("run %1/%2: %3 per class \u00b7 %4 \u00b7 seed %5")
      .arg(index + 1)
      .arg(total)
      .arg(r.perClass)
      .arg(QString::fromUtf8(core::strategyName(r.strategy)))
      .arg(r.seed + 1);
}

// Called on the worker thread. Besides recording, it turns the task's own cancel flag (set when
// the controller goes away or restarts) into the trainer's, at every report a run makes.
class Bridge : public core::DataEfficiencyObserver {
 public:
  Bridge(core::TrainerControl& control, ProgressTracker& progress, std::mutex& mutex,
         std::vector<core::DataEfficiencyRow>& pending, Estimate& estimate,
         const std::atomic<bool>& dropped)
      : control_(control),
        progress_(progress),
        mutex_(mutex),
        pending_(pending),
        estimate_(estimate),
        dropped_(dropped) {}
  void onRunStarted(const core::DataEfficiencyRun& r, int index, int total) override {
    check();
    stage_ = runLabel(r, index, total).toStdString();
    progress_.report(stage_, size_t(index), size_t(total));
  }
  void onRunFinished(const core::DataEfficiencyRow& row, int index, int total,
                     double secondsLeft) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back(row);
      estimate_ = {secondsLeft, std::chrono::steady_clock::now()};
    }
    progress_.report(stage_, size_t(index + 1), size_t(total));
  }
  void onBatch(const core::BatchMetrics&) override { check(); }
  void onEpoch(const core::EpochMetrics&) override { check(); }
  void onTask(const core::TaskProgress&) override { check(); }
  void onLog(const std::string&) override { check(); }

 private:
  void check() {
    if (dropped_.load()) control_.cancel = true;
  }
  core::TrainerControl& control_;
  ProgressTracker& progress_;
  std::mutex& mutex_;
  std::vector<core::DataEfficiencyRow>& pending_;
  Estimate& estimate_;
  const std::atomic<bool>& dropped_;
  std::string stage_;
};

}  // namespace

DataEfficiencyController::DataEfficiencyController(QObject* parent)
    : QObject(parent), poll_(new QTimer(this)) {
  poll_->setInterval(200);
  connect(poll_, &QTimer::timeout, this, &DataEfficiencyController::drain);
}

DataEfficiencyController::~DataEfficiencyController() {
  if (shared_) shared_->control.cancel = true;  // the worker stops at its next step
}

void DataEfficiencyController::start(const core::Project& project,
                                     std::shared_ptr<const core::Dataset> source,
                                     const core::DataEfficiencyPlan& plan) {
  if (shared_) shared_->control.cancel = true;
  shared_ = std::make_shared<Shared>();
  rows_.clear();
  perClass_.clear();
  totalRuns_ = 0;
  seconds_ = 0;
  core::Project p = project;
  p.runs.clear();  // not needed by the worker
  auto shared = shared_;
  auto work = [p, source, plan, shared](const std::atomic<bool>& dropped) {
    Outcome out;
    // The project's label edits and split, applied here rather than on the GUI thread.
    auto dataset = std::make_shared<const core::Dataset>(core::projectDataset(*source, p));
    Bridge bridge(shared->control, shared->progress, shared->mutex, shared->pending,
                  shared->estimate, dropped);
    out.result = core::runDataEfficiency(p.config, dataset, plan, shared->control, &bridge);
    return out;
  };
  task_.start(std::move(work), [this](Outcome out) {
    poll_->stop();
    drain();
    if (!out.error.isEmpty()) {
      emit failed(out.error);
      return;
    }
    perClass_ = out.result.perClass;
    totalRuns_ = out.result.totalRuns;
    seconds_ = out.result.seconds;
    emit finished(out.result.cancelled);
  });
  poll_->start();
  emit started();
}

void DataEfficiencyController::cancel() {
  if (shared_ && isRunning()) shared_->control.cancel = true;
}

void DataEfficiencyController::drain() {
  if (!shared_) return;
  std::vector<core::DataEfficiencyRow> fresh;
  Estimate estimate;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    fresh.swap(shared_->pending);
    estimate = shared_->estimate;
  }
  for (auto& row : fresh) {
    rows_.push_back(row);
    emit runFinished(int(rows_.size()) - 1);
  }
  auto reading = shared_->progress.read();
  // The experiment's estimate (it knows the runs ahead differ), counted down since it was made.
  if (estimate.secondsLeft >= 0) {
    const double since =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - estimate.at).count();
    reading.secondsLeft = std::max(1.0, estimate.secondsLeft - since);
  }
  if (!reading.stage.isEmpty()) {
    if (reading.total > 0) totalRuns_ = int(reading.total);
    emit progress(reading.stage, reading.fraction, reading.eta());
  }
}

}  // namespace tlab::ui
