#include "ui/controllers/ProjectController.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QUndoCommand>
#include <QUndoStack>

#include "core/Errors.h"

namespace tlab::ui {

// One undoable project edit: `apply` and `revert` mutate the project, `notify` says what changed.
class ProjectEditCommand : public QUndoCommand {
 public:
  ProjectEditCommand(ProjectController* c, const QString& text,
                     std::function<void(core::Project&)> apply,
                     std::function<void(core::Project&)> revert,
                     void (ProjectController::*notify)())
      : QUndoCommand(text),
        c_(c),
        apply_(std::move(apply)),
        revert_(std::move(revert)),
        notify_(notify) {}
  void redo() override {
    apply_(c_->project_);
    (c_->*notify_)();
  }
  void undo() override {
    revert_(c_->project_);
    (c_->*notify_)();
  }

 private:
  ProjectController* c_;
  std::function<void(core::Project&)> apply_, revert_;
  void (ProjectController::*notify_)();
};

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentKey = "project/recent";
}  // namespace

ProjectController::ProjectController(QObject* parent)
    : QObject(parent), undo_(new QUndoStack(this)) {
  connect(undo_, &QUndoStack::cleanChanged, this, [this] { emit modifiedChanged(isModified()); });
}

ProjectController::~ProjectController() = default;

bool ProjectController::isModified() const { return !undo_->isClean() || runsDirty_; }

void ProjectController::newProject() {
  static const core::Project kFresh;  // (assigning a temporary trips a GCC 12 false warning)
  project_ = kFresh;
  undo_->clear();
  setRunsDirty(false);
  setFilePath({});
  emit projectReplaced();
  emit modifiedChanged(isModified());
}

bool ProjectController::open(const QString& path, QString* error) {
  try {
    core::Project p = core::loadProject(path.toStdString());
    for (const auto& request : core::consentRequests(p))
      core::applyConsent(p, request, askConsent_ && askConsent_(request));
    project_ = std::move(p);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  undo_->clear();
  setRunsDirty(false);
  setFilePath(QFileInfo(path).absoluteFilePath());
  addRecent(filePath_);
  emit projectReplaced();
  emit modifiedChanged(isModified());
  return true;
}

bool ProjectController::save(QString* error) {
  if (filePath_.isEmpty()) {
    if (error) *error = tr("The project has no file yet: use Save As.");
    return false;
  }
  return saveAs(filePath_, error);
}

bool ProjectController::saveAs(const QString& path, QString* error) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  try {
    core::saveProject(absolute.toStdString(), project_);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  setFilePath(absolute);
  addRecent(absolute);
  undo_->setClean();
  setRunsDirty(false);
  emit modifiedChanged(isModified());
  return true;
}

QStringList ProjectController::recentProjects() const {
  QStringList out;
  for (const QString& p : QSettings().value(kRecentKey).toStringList())
    if (QFileInfo::exists(p)) out << p;
  return out;
}

void ProjectController::addRecent(const QString& path) {
  QStringList list = QSettings().value(kRecentKey).toStringList();
  list.removeAll(path);
  list.prepend(path);
  while (list.size() > kMaxRecent) list.removeLast();
  QSettings().setValue(kRecentKey, list);
}

void ProjectController::setFilePath(const QString& path) {
  if (path == filePath_) return;
  filePath_ = path;
  emit filePathChanged(path);
}

void ProjectController::pushEdit(const QString& what, std::function<void(core::Project&)> apply,
                                 std::function<void(core::Project&)> revert,
                                 void (ProjectController::*notify)()) {
  undo_->push(new ProjectEditCommand(this, what, std::move(apply), std::move(revert), notify));
}

void ProjectController::setConfig(const core::TrainConfig& config, const QString& what) {
  const core::TrainConfig before = project_.config;
  pushEdit(
      what, [config](core::Project& p) { p.config = config; },
      [before](core::Project& p) { p.config = before; }, &ProjectController::configChanged);
}

void ProjectController::setDatasetSettings(const core::DatasetSettings& settings,
                                           const QString& what) {
  const core::DatasetSettings before = project_.dataset;
  pushEdit(
      what, [settings](core::Project& p) { p.dataset = settings; },
      [before](core::Project& p) { p.dataset = before; },
      &ProjectController::datasetSettingsChanged);
}

void ProjectController::setLabel(const std::string& sampleKey, const std::string& label) {
  const auto before = project_.labelEdits;
  auto after = before;
  after.erase(std::remove_if(after.begin(), after.end(),
                             [&](const core::LabelEdit& e) { return e.sampleKey == sampleKey; }),
              after.end());
  after.push_back({sampleKey, label});
  const QString what =
      label.empty() ? tr("Exclude sample") : tr("Relabel as %1").arg(QString::fromStdString(label));
  pushEdit(
      what, [after](core::Project& p) { p.labelEdits = after; },
      [before](core::Project& p) { p.labelEdits = before; }, &ProjectController::labelEditsChanged);
}

void ProjectController::setKept(const std::string& sampleKey, bool kept) {
  const auto before = project_.keptLabels;
  auto after = before;
  after.erase(std::remove(after.begin(), after.end(), sampleKey), after.end());
  if (kept) after.push_back(sampleKey);
  if (after == before) return;
  pushEdit(
      kept ? tr("Keep sample as labelled") : tr("Clear kept mark"),
      [after](core::Project& p) { p.keptLabels = after; },
      [before](core::Project& p) { p.keptLabels = before; }, &ProjectController::labelEditsChanged);
}

core::RunRecord ProjectController::addQueuedRun(const core::TrainConfig& config,
                                                const std::string& name) {
  core::RunRecord r;
  r.id = project_.nextRunId();
  r.name = name;
  r.config = config;
  QString base;
  if (!filePath_.isEmpty()) {
    const QFileInfo f(filePath_);
    base = f.absolutePath() + QLatin1Char('/') + f.completeBaseName() + QStringLiteral("-runs");
  } else {
    base = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/runs/") +
           QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
  }
  QDir().mkpath(base);
  r.folder = (base + QLatin1Char('/') + QString::fromStdString(r.id)).toStdString();
  r.status = core::RunStatus::Queued;
  upsertRun(r);
  return r;
}

void ProjectController::upsertRun(const core::RunRecord& run) {
  auto it = std::find_if(project_.runs.begin(), project_.runs.end(),
                         [&](const core::RunRecord& r) { return r.id == run.id; });
  if (it == project_.runs.end()) {
    project_.runs.push_back(run);
  } else {
    *it = run;
  }
  emit runsChanged();
  autosaveRuns();
}

void ProjectController::removeRun(const std::string& id) {
  project_.runs.erase(std::remove_if(project_.runs.begin(), project_.runs.end(),
                                     [&](const core::RunRecord& r) { return r.id == id; }),
                      project_.runs.end());
  emit runsChanged();
  autosaveRuns();
}

// Merges the runs into the file on disk, leaving its other (saved) contents as they are.
void ProjectController::autosaveRuns() {
  if (filePath_.isEmpty()) {
    setRunsDirty(true);
    return;
  }
  try {
    core::Project onDisk = core::loadProject(filePath_.toStdString());
    onDisk.runs = project_.runs;
    core::saveProject(filePath_.toStdString(), onDisk);
  } catch (const std::exception& e) {
    setRunsDirty(true);
    emit autosaveFailed(QString::fromStdString(e.what()));
  }
}

void ProjectController::setRunsDirty(bool dirty) {
  if (runsDirty_ == dirty) return;
  runsDirty_ = dirty;
  emit modifiedChanged(isModified());
}

}  // namespace tlab::ui
