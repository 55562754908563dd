#include "ui/controllers/TrainController.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QMetaType>
#include <QProcess>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "core/runtime/Runtime.h"
#include "core/train/RunOutputs.h"
#include "core/util/FileUtil.h"
#include "core/util/Trust.h"

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
  // The other ranks go first: rank 0 may be waiting for one of them in a collective, and a
  // closed socket ends that wait at once (a hung rank would hold it until the timeout).
  for (const auto& r : ranks_)
    if (r) r->kill();
  if (trainer_) {
    trainer_->cancel();
    trainer_->join();
  }
}

QString TrainController::cliProgram() {
  const QString env = qEnvironmentVariable("TLAB_CLI_PATH");
  if (!env.isEmpty()) return QFileInfo(env).isExecutable() ? env : QString();
  const QDir here(QCoreApplication::applicationDirPath());
  for (const QString& candidate : {here.filePath(QStringLiteral("transferlab-cli")),
                                   here.filePath(QStringLiteral("../cli/transferlab-cli")),
                                   here.filePath(QStringLiteral("../app/cli/transferlab-cli"))}) {
    if (QFileInfo(candidate).isExecutable()) return QDir::cleanPath(candidate);
  }
  return {};
}

core::DistributedSpec TrainController::startOtherRanks(const Queued& next) {
  const QString id = QString::fromStdString(next.run.id);
  core::DistributedSpec spec;
  if (processes_ <= 1) return spec;
  const QString program = cliProgram();
  QString why;
  if (!next.project)
    why = tr("it was not prepared from a project");
  else if (!core::distributedBuilt())
    why = tr("this build has no distributed training");
  else if (program.isEmpty())
    why = tr("transferlab-cli was not found beside the application");
  if (!why.isEmpty()) {
    emit logged(id, {tr("training on one process: %1").arg(why)});
    return spec;
  }
  // What the other ranks read: the project as it is now and this run's set-up.
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(next.run.folder) / "ranks";
  fs::create_directories(dir);
  core::Project snapshot = *next.project;
  snapshot.runs.clear();
  core::saveProject(dir / "project.tlproj", snapshot);
  core::writeFileAtomic(dir / "config.json", core::toJson(next.run.config).dump(2));
  const fs::path store = dir / "rendezvous";
  fs::remove(store);
  const int threads = std::max(1, int(std::thread::hardware_concurrency()) / processes_);
  spec.worldSize = processes_;
  spec.storeFile = store.string();
  spec.joinSeconds = 60;  // local children start in seconds; one that cannot fails the run soon
  for (int r = 1; r < processes_; ++r) {
    auto* p = new QProcess(this);
    p->setProcessChannelMode(QProcess::SeparateChannels);
    p->setStandardOutputFile(QProcess::nullDevice());
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("OMP_NUM_THREADS"), QString::number(threads));
    p->setProcessEnvironment(env);
    connect(p, &QProcess::readyReadStandardError, this, [this, p, r, id] {
      QStringList lines;
      for (const QString& line : QString::fromUtf8(p->readAllStandardError())
                                     .split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        lines << (line.startsWith(QStringLiteral("[rank")) ? line
                                                           : tr("[rank %1] %2").arg(r).arg(line));
      if (!lines.isEmpty()) emit logged(id, lines);
    });
    connect(p, &QProcess::started, this, [this, p, r, id] {
      emit logged(id, {tr("[rank %1] started (process %2)").arg(r).arg(p->processId())});
    });
    connect(p, &QProcess::finished, this, [this, p, r, id](int code, QProcess::ExitStatus st) {
      QString what = tr("[rank %1] exited with code %2").arg(r).arg(code);
      if (st != QProcess::NormalExit) what = tr("[rank %1] crashed").arg(r);
      if (st == QProcess::NormalExit && code == 0) what = tr("[rank %1] finished").arg(r);
      if (st == QProcess::NormalExit && code == 4) what = tr("[rank %1] stopped").arg(r);
      emit logged(id, {what});
      p->deleteLater();
    });
    connect(p, &QProcess::errorOccurred, this, [this, p, r, id](QProcess::ProcessError e) {
      if (e != QProcess::FailedToStart) return;
      emit logged(id, {tr("[rank %1] could not start: %2").arg(r).arg(p->errorString())});
      p->deleteLater();  // rank 0 stops at the rendezvous timeout, naming the missing rank
    });
    QStringList args{QStringLiteral("train"),
                     QStringLiteral("--project"),
                     QString::fromStdString((dir / "project.tlproj").string()),
                     QStringLiteral("--config"),
                     QString::fromStdString((dir / "config.json").string()),
                     QStringLiteral("--out"),
                     QString::fromStdString(next.run.folder),
                     QStringLiteral("--world-size"),
                     QString::number(processes_),
                     QStringLiteral("--rank"),
                     QString::number(r),
                     QStringLiteral("--dist-store"),
                     QString::fromStdString(store.string()),
                     QStringLiteral("--threads-per-proc"),
                     QString::number(threads)};
    // A TorchScript backbone the user trusted in this window is trusted by its ranks too.
    for (const std::string& f : {next.run.config.backbone, next.run.config.weights}) {
      std::error_code ec;
      if (!f.empty() && fs::is_regular_file(f, ec) && core::isTrustedFile(f)) {
        args << QStringLiteral("--trust-torchscript");
        break;
      }
    }
    p->start(program, args);
    ranks_.push_back(p);
  }
  core::configureRuntime({threads, false});  // rank 0's share of the cores
  emit logged(id, {tr("training on %1 processes (%2 threads each); ranks 1-%3 are %4")
                       .arg(processes_)
                       .arg(threads)
                       .arg(processes_ - 1)
                       .arg(program)});
  return spec;
}

QString TrainController::currentRunId() const {
  return trainer_ ? QString::fromStdString(current_.id) : QString();
}

void TrainController::enqueue(const core::RunRecord& run,
                              std::shared_ptr<const core::Dataset> dataset,
                              std::optional<core::Project> project) {
  queue_.push_back({run, std::move(dataset), std::move(project)});
  if (!trainer_) startNext();
}

void TrainController::prepareAndEnqueue(std::vector<core::RunRecord> runs,
                                        std::shared_ptr<const core::Dataset> source,
                                        core::Project project) {
  project.runs.clear();  // not needed by the worker
  waitingProject_ = project;
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
    for (const auto& r : runs) enqueue(r, p.dataset, waitingProject_);
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
  core::DistributedSpec spec;
  try {
    spec = startOtherRanks(next);
  } catch (const std::exception& e) {
    emit logged(QString::fromStdString(current_.id),
                {tr("training on one process: %1").arg(QString::fromUtf8(e.what()))});
  }
  currentProcesses_ = spec.worldSize;
  trainer_->setDistributed(spec);
  trainer_->start();
  drainTimer_.start();
  emit runStarted(QString::fromStdString(current_.id));
}

void TrainController::pause() {
  if (!trainer_ || paused_) return;
  if (currentProcesses_ > 1) {
    emit logged(QString::fromStdString(current_.id),
                {tr("pause is not available while %1 processes train together (Stop ends the "
                    "run; its checkpoints stay in the run folder)")
                     .arg(currentProcesses_)});
    return;
  }
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
    // (samples per second count every rank's; each rank steps through batchSize of them)
    const double stepsPerSecond =
        last.imagesPerSecond / double(current_.config.batchSize * currentProcesses_);
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
  // The run folder gets the same files as a CLI run (metrics, predictions, the dataset as split,
  // environment, the most confident mistakes): what reports and scripts read.
  if (!current_.folder.empty() && currentDataset_ && !result->history.empty()) {
    try {
      core::writeRunOutputs(current_.folder, current_.config, *result, *currentDataset_);
    } catch (const std::exception& e) {
      emit logged(
          QString::fromStdString(current_.id),
          {tr("Could not write the run's result files: %1").arg(QString::fromUtf8(e.what()))});
    }
  }
  lastResult_ = result;
  lastModel_ = trainer_->model();
  lastDataset_ = currentDataset_;
  trainer_.reset();
  observer_.reset();
  paused_ = false;
  if (currentProcesses_ > 1) core::configureRuntime({0, false});  // this process's cores back
  currentProcesses_ = 1;
  ranks_.clear();  // they end by themselves with rank 0 (QPointer: deleted once finished)
  const core::RunRecord record = current_;
  emit runFinished(record);
  startNext();
}

}  // namespace tlab::ui
