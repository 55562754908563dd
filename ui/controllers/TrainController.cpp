#include "ui/controllers/TrainController.h"

#include <QMetaType>
#include <optional>

namespace tlab::ui {

// Everything the trainer reported since the last drain.
struct TrainController::Pending {
  std::vector<core::BatchMetrics> batches;
  std::vector<core::EpochMetrics> epochs;
  QStringList logs;
  std::vector<core::StatusEvent> statuses;
  std::optional<core::TaskProgress> task;  // the latest report
  bool ended = false;
};

// Runs on the trainer thread: only appends to the buffer (never touches Qt objects).
class TrainController::Observer : public core::TrainerObserver {
 public:
  void onStatus(const core::StatusEvent& s) override {
    std::lock_guard<std::mutex> l(m_);
    p_.statuses.push_back(s);
    if (s.state == core::RunState::Finished || s.state == core::RunState::Cancelled ||
        s.state == core::RunState::Failed)
      p_.ended = true;
  }
  void onBatch(const core::BatchMetrics& b) override {
    std::lock_guard<std::mutex> l(m_);
    p_.batches.push_back(b);
  }
  void onEpoch(const core::EpochMetrics& e) override {
    std::lock_guard<std::mutex> l(m_);
    p_.epochs.push_back(e);
  }
  void onLog(const std::string& s) override {
    std::lock_guard<std::mutex> l(m_);
    p_.logs << QString::fromStdString(s);
  }
  void onTask(const core::TaskProgress& t) override {
    std::lock_guard<std::mutex> l(m_);
    p_.task = t;
  }
  Pending take() {
    std::lock_guard<std::mutex> l(m_);
    return std::exchange(p_, {});
  }

 private:
  std::mutex m_;
  Pending p_;
};

TrainController::TrainController(QObject* parent) : QObject(parent) {
  qRegisterMetaType<BatchPoint>();
  qRegisterMetaType<TrainProgress>();
  qRegisterMetaType<core::EpochMetrics>();
  qRegisterMetaType<core::RunRecord>();
  qRegisterMetaType<core::RunState>();
  qRegisterMetaType<core::TaskProgress>();
  drainTimer_.setInterval(40);
  connect(&drainTimer_, &QTimer::timeout, this, &TrainController::drain);
}

TrainController::~TrainController() {
  queue_.clear();
  if (trainer_) {
    trainer_->cancel();
    trainer_->join();
  }
}

QString TrainController::currentRunId() const {
  return trainer_ ? QString::fromStdString(current_.id) : QString();
}

void TrainController::enqueue(const core::RunRecord& run,
                              std::shared_ptr<const core::Dataset> dataset) {
  queue_.push_back({run, std::move(dataset)});
  if (!trainer_) startNext();
}

void TrainController::prepareAndEnqueue(std::vector<core::RunRecord> runs,
                                        std::shared_ptr<const core::Dataset> source,
                                        core::Project project) {
  project.runs.clear();  // not needed by the worker
  auto work = [source, project = std::move(project)]() {
    Prepared p;
    std::vector<core::LabelEdit> stale;
    p.dataset =
        std::make_shared<const core::Dataset>(core::projectDataset(*source, project, &stale));
    p.staleEdits = stale.size();
    return p;
  };
  // Runs queued while a preparation is still running join it and train on its dataset.
  if (prepare_.isRunning()) {
    for (auto& r : runs) waiting_.push_back(std::move(r));
    return;
  }
  waiting_ = std::move(runs);
  prepare_.start(std::move(work), [this](const Prepared& p) {
    std::vector<core::RunRecord> runs = std::exchange(waiting_, {});
    if (!p.error.isEmpty()) {
      for (auto& r : runs) {
        r.status = core::RunStatus::Failed;
        r.error = p.error.toStdString();
        emit runNotStarted(r);
      }
      return;
    }
    if (p.staleEdits > 0) {
      emit logged(QString(),
                  {tr("%1 label edits refer to samples that are no longer in the dataset")
                       .arg(p.staleEdits)});
    }
    for (const auto& r : runs) enqueue(r, p.dataset);
  });
}

void TrainController::startNext() {
  if (trainer_ || queue_.empty()) return;
  Queued next = std::move(queue_.front());
  queue_.pop_front();
  current_ = next.run;
  current_.status = core::RunStatus::Running;
  currentDataset_ = next.dataset;
  observer_ = std::make_unique<Observer>();
  trainer_ = std::make_unique<core::Trainer>(
      current_.config, currentDataset_, std::filesystem::path(current_.folder), observer_.get());
  paused_ = false;
  trainer_->start();
  drainTimer_.start();
  emit runStarted(QString::fromStdString(current_.id));
}

void TrainController::pause() {
  if (!trainer_ || paused_) return;
  trainer_->pause();
  paused_ = true;
}

void TrainController::resume() {
  if (!trainer_ || !paused_) return;
  trainer_->resume();
  paused_ = false;
}

void TrainController::stop() {
  queue_.clear();
  prepare_.cancel();
  waiting_.clear();
  if (trainer_) trainer_->cancel();
}

void TrainController::shutdown() {
  stop();
  if (!trainer_) return;
  trainer_->join();
  drain();  // delivers the last events; ends the run when its final status is among them
  if (trainer_) finishCurrent();
}

void TrainController::setLearningRate(double lr) {
  if (trainer_) trainer_->setLearningRate(lr);
}

void TrainController::setFrozen(const QString& modulePath, bool frozen) {
  if (trainer_) trainer_->setFrozen(modulePath.toStdString(), frozen);
}

void TrainController::drain() {
  if (!observer_) return;
  ++drains_;
  Pending p = observer_->take();
  const QString id = QString::fromStdString(current_.id);
  if (!p.batches.empty()) {
    QVector<BatchPoint> points;
    points.reserve(int(p.batches.size()));
    for (const auto& b : p.batches)
      points.push_back({double(b.step), b.loss, b.accuracy, b.learningRate});
    emit batchPoints(id, points);
    const auto& last = p.batches.back();
    TrainProgress pr;
    pr.step = last.step;
    pr.totalSteps = last.stepsPerEpoch * current_.config.epochs;
    pr.itemsPerSecond = last.imagesPerSecond;
    pr.epoch = last.epoch;
    pr.epochs = current_.config.epochs;
    const double stepsPerSecond = last.imagesPerSecond / double(current_.config.batchSize);
    if (stepsPerSecond > 0) pr.etaSeconds = double(pr.totalSteps - pr.step) / stepsPerSecond;
    emit progressed(id, pr);
  }
  if (p.task) emit taskProgressed(id, *p.task);
  for (const auto& e : p.epochs) emit epochFinished(id, e);
  if (!p.logs.isEmpty()) emit logged(id, p.logs);
  for (const auto& s : p.statuses) {
    emit stateChanged(id, s.state);
    if (!s.message.empty()) emit logged(id, {QString::fromStdString(s.message)});
  }
  if (p.ended) finishCurrent();
}

void TrainController::finishCurrent() {
  trainer_->join();
  drainTimer_.stop();
  auto result = std::make_shared<core::TrainResult>(trainer_->result());
  current_.status = core::endedStatus(result->state);
  current_.error = result->error;
  current_.history = result->history;
  current_.seconds = result->seconds;
  if (result->val) current_.valAccuracy = result->val->accuracy;
  if (result->test) current_.testAccuracy = result->test->accuracy;
  lastResult_ = result;
  lastModel_ = trainer_->model();
  lastDataset_ = currentDataset_;
  trainer_.reset();
  observer_.reset();
  paused_ = false;
  const core::RunRecord record = current_;
  emit runFinished(record);
  startNext();
}

}  // namespace tlab::ui
