#include "ui/DatasetController.h"

#include <QFutureWatcher>

#include "core/dataset/ImageVerifier.h"
#include "core/dataset/Readers.h"
#include "ui/Background.h"

namespace tlab::ui {
namespace {

DatasetLoadResult loadDataset(const std::string& path, const core::ReadOptions& options,
                              std::shared_ptr<void> jobKeepAlive, std::atomic<bool>* cancel,
                              std::atomic<qint64>* done, std::atomic<qint64>* total) {
  (void)jobKeepAlive;  // keeps the atomics alive while this runs
  DatasetLoadResult r;
  try {
    auto ds = std::make_shared<core::Dataset>(core::openDataset(path, options));
    core::VerifyOptions vo;
    vo.cancel = cancel;
    vo.progress = [done, total](size_t d, size_t t) {
      *done = qint64(d);
      *total = qint64(t);
    };
    core::verifyImages(*ds, vo);
    if (cancel->load()) {
      r.error = QObject::tr("Cancelled");
      return r;
    }
    r.dataset = std::move(ds);
  } catch (const std::exception& e) {
    r.error = QString::fromStdString(e.what());
  }
  return r;
}

}  // namespace

DatasetController::DatasetController(QObject* parent) : QObject(parent) {
  progressTimer_.setInterval(100);
  connect(&progressTimer_, &QTimer::timeout, this, [this] {
    if (job_) emit progress(job_->done.load(), job_->total.load());
  });
}

DatasetController::~DatasetController() {
  cancel();
  if (watcher_) watcher_->waitForFinished();
}

bool DatasetController::isBusy() const { return watcher_ && watcher_->isRunning(); }

void DatasetController::cancel() {
  if (job_) job_->cancel = true;
}

void DatasetController::open(const QString& path, const core::ReadOptions& options) {
  cancel();
  if (watcher_) {
    watcher_->disconnect(this);
    watcher_->waitForFinished();  // bounded: the verifier checks cancel between files
    watcher_->deleteLater();
  }
  job_ = std::make_shared<Job>();
  watcher_ = new QFutureWatcher<DatasetLoadResult>(this);
  connect(watcher_, &QFutureWatcher<DatasetLoadResult>::finished, this, &DatasetController::finish);
  auto job = job_;
  watcher_->setFuture(runGuarded([p = path.toStdString(), options, job] {
    return loadDataset(p, options, std::static_pointer_cast<void>(job), &job->cancel, &job->done,
                       &job->total);
  }));
  progressTimer_.start();
  emit started(path);
}

void DatasetController::finish() {
  progressTimer_.stop();
  const DatasetLoadResult r = watcher_->result();
  if (r.dataset) {
    dataset_ = r.dataset;
    emit loaded(dataset_);
  } else {
    emit failed(r.error);
  }
}

}  // namespace tlab::ui
