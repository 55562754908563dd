#pragma once
// Owns the open project (core::Project): New / Open / Save / Save As, the recent-projects list,
// the modified flag, and undo/redo of settings and label edits (QUndoStack). Run results are
// autosaved into the project file as they arrive without saving the user's other unsaved edits
// (the file on disk gets the new runs merged in). GUI thread only.
#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/project/Project.h"

class QUndoStack;

namespace tlab::ui {

class ProjectController : public QObject {
  Q_OBJECT
 public:
  explicit ProjectController(QObject* parent = nullptr);
  ~ProjectController() override;

  const core::Project& project() const { return project_; }
  QString filePath() const { return filePath_; }  ///< empty: never saved
  bool isModified() const;
  QUndoStack* undoStack() const { return undo_; }

  void newProject();
  /// Asked before a project's risky setting takes effect (core::consentRequests): returns the
  /// user's answer. Without one, every such request is declined.
  using ConsentAsker = std::function<bool(const core::ConsentRequest&)>;
  void setConsentAsker(ConsentAsker asker) { askConsent_ = std::move(asker); }
  /// Replaces the project with the file's; on failure the current project stays and `error`
  /// names the file and the problem. Risky settings take effect only with consent.
  bool open(const QString& path, QString* error);
  bool save(QString* error);
  bool saveAs(const QString& path, QString* error);
  /// Most recent first, at most 8; entries whose file is gone are dropped.
  QStringList recentProjects() const;

  // Undoable edits; `what` names the step in the Edit menu ("Undo change learning rate").
  void setConfig(const core::TrainConfig& config, const QString& what);
  void setDatasetSettings(const core::DatasetSettings& settings, const QString& what);
  /// New class for a sample (see core::sampleKey); an empty label excludes the sample.
  void setLabel(const std::string& sampleKey, const std::string& label);
  /// Marks a sample reviewed and kept as labelled (Data issues), or clears the mark.
  void setKept(const std::string& sampleKey, bool kept);

  // Runs: not undoable (they happened); autosaved when the project has a file.
  void upsertRun(const core::RunRecord& run);
  /// Records a new queued run of `config` (the next id, a folder beside the project file, or in
  /// the application's data folder while the project is unsaved) and returns it.
  core::RunRecord addQueuedRun(const core::TrainConfig& config, const std::string& name);
  void removeRun(const std::string& id);

 signals:
  void projectReplaced();  ///< after newProject() / open(): everything changed
  void configChanged();
  void datasetSettingsChanged();
  void labelEditsChanged();
  void runsChanged();
  void modifiedChanged(bool modified);
  void filePathChanged(const QString& path);
  void autosaveFailed(const QString& message);

 private:
  friend class ProjectEditCommand;
  void pushEdit(const QString& what, std::function<void(core::Project&)> apply,
                std::function<void(core::Project&)> revert, void (ProjectController::*notify)());
  void setFilePath(const QString& path);
  void addRecent(const QString& path);
  void autosaveRuns();
  void setRunsDirty(bool dirty);

  core::Project project_;
  QString filePath_;
  QUndoStack* undo_;
  bool runsDirty_ = false;  // runs changed since the last save and could not be autosaved
  ConsentAsker askConsent_;
};

}  // namespace tlab::ui
