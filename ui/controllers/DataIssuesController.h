#pragma once
// The Data page's "Data issues" check: runs core::findDataIssues (label errors by confident
// learning, near-duplicates across splits, outliers) on the dataset as training sees it (the
// project's label edits and split applied), off the GUI thread with progress and cancel, and
// keeps the findings for review. Reviewing is editing the project: "accept" relabels the
// sample to the suggested class, "exclude" leaves it out, both through ProjectController (so
// Edit -> Undo takes them back); "keep" marks it reviewed as labelled, an undoable step on the
// same undo stack. GUI thread only.
#include <QObject>
#include <QString>
#include <QVector>
#include <memory>
#include <set>
#include <string>

#include "core/dataset/Dataset.h"
#include "ui/workers/Async.h"
#include "ui/workers/ProgressTracker.h"

class QTimer;

namespace tlab::core {
struct DataIssueReport;
}

namespace tlab::ui {
class ProjectController;

struct DataIssueRow {
  enum class Kind { Label, Duplicate, Outlier };
  Kind kind = Kind::Label;
  size_t sample = 0;         ///< index in training()
  std::string key;           ///< core::sampleKey: what the project's edits refer to
  QString given, suggested;  ///< class names; `suggested` only for label issues
  double score = 0;          ///< label: 1 - p(given); duplicate: similarity; outlier: distance
  size_t other = 0;          ///< duplicates: the other sample (index in training())
};

class DataIssuesController : public QObject {
  Q_OBJECT
 public:
  explicit DataIssuesController(ProjectController* project, QObject* parent = nullptr);
  ~DataIssuesController() override;

  /// Starts the check of `source` with the project's edits and split applied (a running check
  /// is cancelled). `imageSize` 0: the backbone's own.
  void run(std::shared_ptr<const core::Dataset> source, const QString& backbone, int folds,
           int imageSize = 0);
  void cancel();
  bool isRunning() const { return task_.isRunning(); }

  const QVector<DataIssueRow>& rows() const { return rows_; }
  std::shared_ptr<const core::Dataset> training() const { return training_; }
  QString summary() const { return summary_; }
  /// The flagged samples' keys (core::sampleKey), for the sample browser's filter.
  std::set<std::string> flaggedKeys() const;

  enum class Review { Open, Relabelled, Excluded, Kept };
  /// Where the review of `row` stands, from the project's label edits and the kept marks;
  /// `label` receives the new class of a relabelled sample.
  Review reviewOf(int row, QString* label = nullptr) const;
  /// Relabel to the suggested class (label issues only; false otherwise).
  bool accept(int row);
  void exclude(int row);
  void keep(int row);

 signals:
  void started();
  /// What runs (the current stage), how far in it (0..1) and its time left ("" while unknown).
  void progress(const QString& stage, double fraction, const QString& eta);
  void finished();
  void failed(const QString& message);
  void reviewChanged();

 private:
  struct Outcome {
    std::shared_ptr<const core::Dataset> training;
    std::shared_ptr<const core::DataIssueReport> report;
    QString error;
  };
  void poll();
  void takeOutcome(const Outcome& outcome);

  ProjectController* project_;
  QVector<DataIssueRow> rows_;
  std::shared_ptr<const core::Dataset> training_;
  std::shared_ptr<const core::DataIssueReport> report_;
  QString summary_;
  std::shared_ptr<ProgressTracker> shared_;  // written by the worker, read by the poll timer
  QTimer* poll_;
  Async<Outcome> task_{this};
};

}  // namespace tlab::ui
