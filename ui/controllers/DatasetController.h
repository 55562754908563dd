#pragma once
// Opens and verifies a dataset off the GUI thread. One load at a time: a new open() cancels the
// previous one without waiting for it (the readers and the verifier stop at their next file or
// row). Progress is polled from atomics on a timer (no per-file signals). All signals are
// emitted on the GUI thread; cancel() emits failed("Cancelled") at once.
#include <QObject>
#include <QString>
#include <QTimer>
#include <atomic>
#include <memory>

#include "core/dataset/Dataset.h"
#include "core/dataset/Readers.h"
#include "ui/workers/Async.h"

namespace tlab::ui {

struct DatasetLoadResult {
  std::shared_ptr<const core::Dataset> dataset;  ///< null on failure
  QString error;
};

class DatasetController : public QObject {
  Q_OBJECT
 public:
  explicit DatasetController(QObject* parent = nullptr);
  ~DatasetController() override;

  void open(const QString& path, const core::ReadOptions& options = {});
  void cancel();
  bool isBusy() const;
  std::shared_ptr<const core::Dataset> dataset() const { return dataset_; }

  struct Progress {
    std::atomic<qint64> done{0}, total{0};
  };

 signals:
  void started(const QString& path);
  void progress(qint64 done, qint64 total);
  void loaded(std::shared_ptr<const tlab::core::Dataset> dataset);
  void failed(const QString& message);

 private:
  void finish(const DatasetLoadResult& result);

  std::shared_ptr<Progress> progress_;
  QTimer progressTimer_;
  std::shared_ptr<const core::Dataset> dataset_;
  Async<DatasetLoadResult> load_{this};
};

}  // namespace tlab::ui

Q_DECLARE_METATYPE(std::shared_ptr<const tlab::core::Dataset>)
