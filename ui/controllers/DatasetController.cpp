#include "ui/controllers/DatasetController.h"

#include "core/Errors.h"
#include "core/dataset/ImageVerifier.h"
#include "core/dataset/Readers.h"

namespace tlab::ui {
namespace {

// Worker thread: lists the dataset (the readers stop at the next file or row once `cancelled`
// is set) and verifies its images.
DatasetLoadResult loadDataset(const std::string& path, core::ReadOptions options,
                              const std::atomic<bool>& cancelled,
                              const std::shared_ptr<DatasetController::Progress>& progress) {
  DatasetLoadResult r;
  try {
    options.cancel = &cancelled;
    auto ds = std::make_shared<core::Dataset>(core::openDataset(path, options));
    core::VerifyOptions vo;
    vo.cancel = &cancelled;
    vo.progress = [progress](size_t d, size_t t) {
      progress->done = qint64(d);
      progress->total = qint64(t);
    };
    core::verifyImages(*ds, vo);
    if (cancelled) {
      r.error = QObject::tr("Cancelled");
      return r;
    }
    r.dataset = std::move(ds);
  } catch (const core::Cancelled&) {
    r.error = QObject::tr("Cancelled");
  } catch (const std::exception& e) {
    r.error = QString::fromStdString(e.what());
  }
  return r;
}

}  // namespace

DatasetController::DatasetController(QObject* parent) : QObject(parent) {
  progressTimer_.setInterval(100);
  connect(&progressTimer_, &QTimer::timeout, this, [this] {
    if (progress_) emit progress(progress_->done.load(), progress_->total.load());
  });
}

DatasetController::~DatasetController() = default;

bool DatasetController::isBusy() const { return load_.isRunning(); }

void DatasetController::cancel() {
  if (!load_.isRunning()) return;
  load_.cancel();  // never blocks: the reader or verifier stops at its next file
  progressTimer_.stop();
  progress_.reset();
  emit failed(tr("Cancelled"));
}

void DatasetController::open(const QString& path, const core::ReadOptions& options) {
  load_.cancel();  // a load still running is superseded; it is not waited for
  auto progress = std::make_shared<Progress>();
  progress_ = progress;
  load_.start(
      [p = path.toStdString(), options, progress](const std::atomic<bool>& cancelled) {
        return loadDataset(p, options, cancelled, progress);
      },
      [this](const DatasetLoadResult& r) { finish(r); });
  progressTimer_.start();
  emit started(path);
}

void DatasetController::finish(const DatasetLoadResult& r) {
  progressTimer_.stop();
  progress_.reset();
  if (r.dataset) {
    dataset_ = r.dataset;
    emit loaded(dataset_);
  } else {
    emit failed(r.error);
  }
}

}  // namespace tlab::ui
