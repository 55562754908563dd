#include "ui/controllers/DataIssuesController.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <QTimer>
#include <algorithm>

#include "core/project/Project.h"
#include "core/quality/DataIssues.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {

DataIssuesController::DataIssuesController(ProjectController* project, QObject* parent)
    : QObject(parent), project_(project), poll_(new QTimer(this)) {
  poll_->setInterval(100);
  connect(poll_, &QTimer::timeout, this, &DataIssuesController::poll);
  connect(project_, &ProjectController::labelEditsChanged, this,
          &DataIssuesController::reviewChanged);
  connect(project_, &ProjectController::projectReplaced, this, [this] {
    cancel();
    rows_.clear();
    training_.reset();
    report_.reset();
    summary_.clear();
    emit reviewChanged();
  });
}

DataIssuesController::~DataIssuesController() = default;

void DataIssuesController::run(std::shared_ptr<const core::Dataset> source, const QString& backbone,
                               int folds, int imageSize) {
  if (!source) return;
  core::Project settings;  // what the training split depends on
  settings.dataset = project_->project().dataset;
  settings.labelEdits = project_->project().labelEdits;
  core::DataIssueOptions o;
  o.backbone = backbone.toStdString();
  o.imageSize = imageSize;
  o.probe.folds = folds;
  o.probe.seed = settings.dataset.splitSeed;
  auto shared = std::make_shared<ProgressTracker>();
  shared_ = shared;
  o.progress = [shared](const std::string& stage, size_t done, size_t total) {
    shared->report(stage, done, total);
  };
  task_.start(
      [source, settings, o](const std::atomic<bool>& cancelled) mutable {
        Outcome out;
        o.cancel = &cancelled;
        auto training =
            std::make_shared<const core::Dataset>(core::projectDataset(*source, settings));
        out.report =
            std::make_shared<const core::DataIssueReport>(core::findDataIssues(training, o));
        out.training = std::move(training);
        return out;
      },
      [this](const Outcome& outcome) { takeOutcome(outcome); });
  poll_->start();
  emit started();
  emit progress(tr("Starting"), 0, QString());
}

void DataIssuesController::cancel() {
  if (!task_.isRunning()) return;
  task_.cancel();
  poll_->stop();
  emit failed(tr("Cancelled."));
}

void DataIssuesController::poll() {
  if (!shared_) return;
  const auto r = shared_->read();
  if (!r.stage.isEmpty()) emit progress(r.stage, r.fraction, r.eta());
}

void DataIssuesController::takeOutcome(const Outcome& outcome) {
  poll_->stop();
  if (!outcome.error.isEmpty() || !outcome.report) {
    emit failed(outcome.error.isEmpty() ? tr("The check failed.") : outcome.error);
    return;
  }
  training_ = outcome.training;
  report_ = outcome.report;
  const auto& ds = *training_;
  const auto& r = *report_;
  rows_.clear();
  const auto name = [&](int32_t c) { return QString::fromStdString(ds.classNames.at(size_t(c))); };
  for (const auto& i : r.labels.issues) {
    DataIssueRow row;
    row.kind = DataIssueRow::Kind::Label;
    row.sample = r.samples[i.row];
    row.given = name(i.given);
    row.suggested = name(i.suggested);
    row.score = i.score;
    rows_.push_back(row);
  }
  for (const auto& d : r.duplicates) {
    DataIssueRow row;
    row.kind = DataIssueRow::Kind::Duplicate;
    row.sample = d.sample;
    row.other = d.other;
    row.given = name(ds.samples[d.sample].label);
    row.score = d.similarity;
    rows_.push_back(row);
  }
  for (const auto& o : r.outliers) {
    DataIssueRow row;
    row.kind = DataIssueRow::Kind::Outlier;
    row.sample = o.sample;
    row.given = name(ds.samples[o.sample].label);
    row.score = o.score;
    rows_.push_back(row);
  }
  for (auto& row : rows_) row.key = core::sampleKey(ds, row.sample);
  summary_ = tr("%1 training samples, %2-fold linear probes on %3 features (out-of-sample "
                "accuracy %4): %5 likely label errors, %6 near-duplicate pairs across splits, "
                "%7 outliers.")
                 .arg(r.samples.size())
                 .arg(r.folds)
                 .arg(QString::fromStdString(r.backbone))
                 .arg(r.probeAccuracy, 0, 'f', 3)
                 .arg(r.labels.issues.size())
                 .arg(r.duplicates.size())
                 .arg(r.outliers.size());
  if (r.hasTestAccuracy)
    summary_ += tr(" A linear probe scores %1 on the test split as labelled, %2 with every "
                   "suggestion accepted, %3 without the flagged samples.")
                    .arg(r.testAccuracyGiven, 0, 'f', 3)
                    .arg(r.testAccuracyFixed, 0, 'f', 3)
                    .arg(r.testAccuracyExcluded, 0, 'f', 3);
  emit finished();
  emit reviewChanged();
}

std::set<std::string> DataIssuesController::flaggedKeys() const {
  std::set<std::string> keys;
  for (const auto& r : rows_) keys.insert(r.key);
  return keys;
}

DataIssuesController::Review DataIssuesController::reviewOf(int row, QString* label) const {
  if (row < 0 || row >= rows_.size()) return Review::Open;
  const std::string& key = rows_[row].key;
  const auto& edits = project_->project().labelEdits;
  const auto it = std::find_if(edits.rbegin(), edits.rend(),
                               [&](const core::LabelEdit& e) { return e.sampleKey == key; });
  if (it != edits.rend()) {
    if (it->label.empty()) return Review::Excluded;
    if (label) *label = QString::fromStdString(it->label);
    return Review::Relabelled;
  }
  const auto& kept = project_->project().keptLabels;
  return std::find(kept.begin(), kept.end(), key) != kept.end() ? Review::Kept : Review::Open;
}

bool DataIssuesController::accept(int row) {
  if (row < 0 || row >= rows_.size() || rows_[row].kind != DataIssueRow::Kind::Label) return false;
  project_->setLabel(rows_[row].key, rows_[row].suggested.toStdString());
  return true;
}

void DataIssuesController::exclude(int row) {
  if (row < 0 || row >= rows_.size()) return;
  project_->setLabel(rows_[row].key, "");
}

void DataIssuesController::keep(int row) {
  if (row < 0 || row >= rows_.size()) return;
  project_->setKept(rows_[row].key, true);
}

}  // namespace tlab::ui
