#pragma once
// The application window: assembles the pages (Data, Model, Train, Evaluate, Predict), the project
// and training controllers, menus and shortcuts, and wires them; no logic of its own. Closing while
// training asks, then cancels and joins the run; closing with unsaved changes offers to save.
#include <QFont>
#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <functional>
#include <optional>

#include "core/project/DatasetSettings.h"
#include "core/runtime/Runtime.h"
#include "ui/workers/Async.h"

class QLabel;
class QTabWidget;

namespace tlab::ui {
class CaptureController;
class CaptureDialog;
class DatasetController;
class DatasetPage;
class EvaluateController;
class EvaluatePage;
class ExampleDialog;
class ExplainController;
class ModelController;
class ModelPage;
class PredictController;
class PredictPage;
class ProjectController;
class TrainController;
class TrainPage;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const core::RuntimeReport& runtime, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Makes `path` the project's dataset (format auto-detected, split settings kept) and opens it
  /// in the background. File > Import Dataset is the same with a preview and every choice.
  void openDataset(const QString& path);
  /// Opens a project and its dataset; a failure is shown, the current project stays.
  bool openProject(const QString& path);
  /// Help -> Examples: opens the user's copy of the example `id` (ExampleDialog.h) and shows its
  /// explanation. False with `error` set when it cannot open here; nothing changes then.
  bool openExample(const QString& id, QString* error);
  /// Where the examples' project copies go (default: the application data folder's examples/).
  void setExamplesFolder(const QString& folder) { examplesFolder_ = folder; }
  ExampleDialog* exampleDialog() const;
  /// File -> Capture: the camera / video / image-folder capture window with live prediction
  /// (created on first use). Recording makes the capture folder the project's dataset.
  CaptureDialog* showCapture();
  CaptureDialog* captureDialog() const;
  CaptureController* captureController() const { return capture_; }
  /// Where captures of the current project go: the project's dataset when it is a capture
  /// folder, else PROJECT-captures beside the project file, else one in the data folder.
  QString captureFolder() const;
  /// View -> Presenter Mode, for a projector: the application's text 1.5x, thicker chart lines,
  /// a simplified Train page. Remembered across sessions; off restores everything.
  void setPresenterMode(bool on);
  bool presenterMode() const { return presenterFont_.has_value(); }

  DatasetController* datasetController() const { return datasetController_; }
  DatasetPage* datasetPage() const { return datasetPage_; }
  ProjectController* projectController() const { return project_; }
  TrainController* trainController() const { return trainer_; }
  TrainPage* trainPage() const { return trainPage_; }
  ModelController* modelController() const { return modelController_; }
  ModelPage* modelPage() const { return modelPage_; }
  EvaluateController* evaluateController() const { return evaluate_; }
  ExplainController* explainController() const { return explain_; }
  EvaluatePage* evaluatePage() const { return evaluatePage_; }
  PredictController* predictController() const { return predict_; }
  QTabWidget* pages() const { return pages_; }

  /// Asks the user a question (a message box); tests replace it to answer without a dialog.
  using Ask = std::function<QMessageBox::StandardButton(const QString& title, const QString& text,
                                                        QMessageBox::StandardButtons buttons)>;
  void setAsk(Ask ask) { ask_ = std::move(ask); }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void setUpAskers();
  void connectControllers();
  void restoreWindowState();
  void createMenus();
  void showRuntime(const core::RuntimeReport& runtime);
  void updateTitle();
  bool saveProject();
  bool saveProjectAs();
  bool maybeSave();
  void rebuildRecentMenu();
  enum class ReloadPolicy { Always, IfSourceChanged };
  /// Opens the project's dataset (path, format, path policy) in the background.
  void reloadDataset(ReloadPolicy policy);
  /// After a recorded burst, an undo or a redo of one: the dataset is the capture folder, re-read.
  void capturesChanged();

  FutureSynchronizer synchronizer_;  // first: outlives nothing it waits for
  DatasetController* datasetController_;
  ProjectController* project_;
  TrainController* trainer_;
  ModelController* modelController_;
  EvaluateController* evaluate_;
  ExplainController* explain_;
  PredictController* predict_;
  QTabWidget* pages_;
  DatasetPage* datasetPage_;
  ModelPage* modelPage_;
  TrainPage* trainPage_;
  EvaluatePage* evaluatePage_;
  PredictPage* predictPage_;
  QMenu* recentMenu_ = nullptr;
  QLabel* runtimeInfo_ = nullptr;
  QLabel* runtimeWarning_ = nullptr;
  Async<core::RuntimeReport> blasProbe_;
  Ask ask_;
  std::optional<core::DatasetSettings> loadedSource_;  // the dataset source last opened
  QString examplesFolder_;
  std::optional<QFont> presenterFont_;  // the font before presenter mode, while it is on
  QAction* presenterAction_ = nullptr;
  QPointer<ExampleDialog> exampleDialog_;
  CaptureController* capture_;
  QPointer<CaptureDialog> captureDialog_;
  QString untitledCaptures_;  // the unsaved project's capture folder, once chosen
};

}  // namespace tlab::ui
