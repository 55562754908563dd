#include "ui/pages/MainWindow.h"

#include <algorithm>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QUndoStack>

#include "ui/capture/CaptureController.h"
#include "ui/capture/CaptureDialog.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/EvaluateController.h"
#include "ui/controllers/ExplainController.h"
#include "ui/controllers/ModelController.h"
#include "ui/controllers/PredictController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/controllers/TrainController.h"
#include "ui/pages/DatasetPage.h"
#include "ui/pages/EvaluatePage.h"
#include "ui/pages/ModelPage.h"
#include "ui/pages/PredictPage.h"
#include "ui/pages/TrainPage.h"
#include "ui/widgets/CalibrationView.h"
#include "ui/widgets/DataIssuesView.h"
#include "ui/widgets/DatasetImportDialog.h"
#include "ui/widgets/ExampleDialog.h"
#include "ui/widgets/PresenterMode.h"

namespace tlab::ui {
namespace {

// A menu entry with a shortcut (QMenu's own overloads for this changed across Qt 6 versions).
template <typename Receiver, typename F>
QAction* addItem(QMenu* menu, const QString& text, const QKeySequence& key,
                 const Receiver* receiver, F fn) {
  QAction* a = menu->addAction(text);
  a->setShortcut(key);
  QObject::connect(a, &QAction::triggered, receiver, fn);
  return a;
}

const char* kSplitters[] = {"dataSplitter", "modelSplitter", "trainSplitter", "trainRightSplitter",
                            "evaluateSplitter"};
}  // namespace

MainWindow::MainWindow(const core::RuntimeReport& runtime, QWidget* parent)
    : QMainWindow(parent),
      synchronizer_(),
      datasetController_(new DatasetController(this)),
      project_(new ProjectController(this)),
      trainer_(new TrainController(this)),
      modelController_(new ModelController(project_, this)),
      evaluate_(new EvaluateController(project_, this)),
      explain_(new ExplainController(this)),
      predict_(new PredictController(this)),
      pages_(new QTabWidget(this)),
      datasetPage_(new DatasetPage(datasetController_, project_, this)),
      modelPage_(new ModelPage(project_, modelController_, this)),
      trainPage_(new TrainPage(project_, datasetController_, trainer_, this)),
      evaluatePage_(new EvaluatePage(evaluate_, explain_, this)),
      predictPage_(new PredictPage(predict_, this)),
      blasProbe_(this),
      capture_(new CaptureController(this)) {
  FutureSynchronizer::setCurrent(&synchronizer_);
  setUpAskers();
  pages_->addTab(datasetPage_, tr("&Data"));
  pages_->addTab(modelPage_, tr("&Model"));
  pages_->addTab(trainPage_, tr("&Train"));
  pages_->addTab(evaluatePage_, tr("&Evaluate"));
  pages_->addTab(predictPage_, tr("&Predict"));
  setCentralWidget(pages_);
  connectControllers();
  createMenus();
  showRuntime(runtime);
  if (runtime.gemmGflops <= 0) {  // measured off the GUI thread, so it never delays the window
    blasProbe_.start([runtime] { return core::withMeasuredBlas(runtime); },
                     [this](const core::RuntimeReport& measured) { showRuntime(measured); });
  }
  restoreWindowState();
  updateTitle();
}

// Questions go through ask_ (tests replace it); a security question defaults to "No".
void MainWindow::setUpAskers() {
  ask_ = [this](const QString& title, const QString& text, QMessageBox::StandardButtons b) {
    return QMessageBox::question(this, title, text, b);
  };
  project_->setConsentAsker([this](const core::ConsentRequest& request) {
    // A security question: "No" is the default, so Enter does not grant it.
    return QMessageBox::question(
               this, tr("Allow this project setting?"), QString::fromStdString(request.question),
               QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
  });
}

// A finished run feeds Predict and Evaluate; the dataset's classes shape the Model page's head.
void MainWindow::connectControllers() {
  connect(trainer_, &TrainController::runFinished, this, [this](const core::RunRecord& r) {
    const auto result = trainer_->lastResult();
    if (result && trainer_->lastModel() && r.status == core::RunStatus::Finished) {
      predict_->setModel(
          trainer_->lastModel(), core::bundleInfo(*result, r.config),
          tr("%1 (%2)").arg(QString::fromStdString(r.id), QString::fromStdString(r.name)),
          trainer_->lastDataset());
    }
    if (!result || (!result->test && !result->val)) return;
    if (trainer_->lastModel() && r.status == core::RunStatus::Finished) {
      explain_->setModel(trainer_->lastModel(), core::bundleInfo(*result, r.config), r.config,
                         QString::fromStdString(r.id), trainer_->lastDataset());
    }
    const bool test = result->test.has_value();
    evaluate_->setEvaluation(
        test ? *result->test : *result->val, trainer_->lastDataset(),
        tr("%1 · %2 split").arg(QString::fromStdString(r.id), test ? tr("test") : tr("val")),
        result->calibration.temperature);
    // The unsure threshold the Evaluate page shows is the one Predict and exports use.
    predict_->setUnsureBelow(evaluatePage_->calibrationView()->threshold());
  });
  // "Retrain with fixes" after reviewing data issues: the project's set-up with its edits.
  connect(datasetPage_->issuesView(), &DataIssuesView::retrainRequested, this, [this] {
    const auto strategy = core::strategyName(project_->project().config.strategy);
    if (trainPage_->startRunNamed(std::string(strategy) + " (with data fixes)"))
      pages_->setCurrentWidget(trainPage_);
  });
  connect(evaluatePage_->calibrationView(), &CalibrationView::thresholdChanged, predict_,
          &PredictController::setUnsureBelow);
  // "Explain at this layer" from the layer tree: Grad-CAM of the last run's model there.
  connect(modelPage_, &ModelPage::explainLayerRequested, this, [this](const QString& path) {
    if (!explain_->hasModel()) {
      statusBar()->showMessage(tr("Train a model first: explanations show the trained model."),
                               8000);
    } else if (!explain_->layers().contains(path)) {
      statusBar()->showMessage(tr("%1 has no spatial output to explain; choose one of: %2")
                                   .arg(path, explain_->layers().join(QStringLiteral(", "))),
                               12000);
    } else {
      explain_->setLayer(path);
      explain_->setOverlaysOn(true);
      pages_->setCurrentWidget(evaluatePage_);
    }
  });
  connect(datasetController_, &DatasetController::loaded, modelController_,
          [this](const std::shared_ptr<const core::Dataset>& ds) {
            modelController_->setNumClasses(int(ds->numClasses()));
          });
  // Import, undo and redo all change the settings; the dataset follows them.
  connect(project_, &ProjectController::datasetSettingsChanged, this,
          [this] { reloadDataset(ReloadPolicy::IfSourceChanged); });
  capture_->setUndoStack(project_->undoStack());
  // Queued: a burst's undo command announces itself from inside QUndoStack::push, where
  // pushing the dataset change would re-enter the stack.
  connect(capture_, &CaptureController::capturesChanged, this, &MainWindow::capturesChanged,
          Qt::QueuedConnection);
  const auto followProject = [this] {
    if (!capture_->isRecording()) capture_->setRoot(captureFolder());
  };
  connect(project_, &ProjectController::projectReplaced, this, [this, followProject] {
    untitledCaptures_.clear();  // a new untitled project gets a folder of its own
    followProject();
  });
  connect(project_, &ProjectController::filePathChanged, this, followProject);
  connect(project_, &ProjectController::modifiedChanged, this, &MainWindow::updateTitle);
  connect(project_, &ProjectController::filePathChanged, this, &MainWindow::updateTitle);
  connect(project_, &ProjectController::autosaveFailed, this, [this](const QString& m) {
    statusBar()->showMessage(tr("Could not autosave the run results: %1").arg(m), 10000);
  });
}

void MainWindow::restoreWindowState() {
  resize(1280, 800);
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  pages_->setCurrentIndex(settings.value(QStringLiteral("window/page"), 0).toInt());
  setPresenterMode(settings.value(QStringLiteral("view/presenter"), false).toBool());
  for (const char* name : kSplitters) {
    if (auto* s = findChild<QSplitter*>(QLatin1String(name)))
      s->restoreState(
          settings.value(QStringLiteral("window/") + QLatin1String(name)).toByteArray());
  }
}

// Background tasks cancelled while running were handed to the synchronizer; they are told to
// stop and waited for here, before the controllers they might still reference are deleted.
MainWindow::~MainWindow() {
  if (presenterFont_) QApplication::setFont(*presenterFont_);  // the font is application-wide
  synchronizer_.cancelAndWait();
  FutureSynchronizer::setCurrent(nullptr);
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  addItem(file, tr("&New Project"), QKeySequence::New, this, [this] {
    if (maybeSave()) project_->newProject();
  });
  addItem(file, tr("&Open Project\u2026"), QKeySequence(tr("Ctrl+Shift+P")), this, [this] {
    if (!maybeSave()) return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), QString(),
                                                      tr("TransferLab projects (*.tlproj)"));
    if (!path.isEmpty()) openProject(path);
  });
  recentMenu_ = file->addMenu(tr("Open &Recent"));
  connect(recentMenu_, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
  addItem(file, tr("&Save Project"), QKeySequence::Save, this, &MainWindow::saveProject);
  addItem(file, tr("Save Project &As\u2026"), QKeySequence::SaveAs, this,
          &MainWindow::saveProjectAs);
  file->addSeparator();
  addItem(file, tr("&Import Dataset\u2026"), QKeySequence::Open, this, [this] {
    DatasetImportDialog dialog(project_->project().dataset, this);
    if (dialog.exec() != QDialog::Accepted) return;
    const core::DatasetSettings s = dialog.settings();
    project_->setDatasetSettings(
        s, tr("import dataset %1").arg(QFileInfo(QString::fromStdString(s.path)).fileName()));
  });
  addItem(file, tr("&Capture from Camera or Video\u2026"), QKeySequence(tr("Ctrl+Shift+C")), this,
          [this] { showCapture(); });
  file->addSeparator();
  addItem(file, tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  QAction* undo = project_->undoStack()->createUndoAction(this, tr("&Undo"));
  undo->setShortcut(QKeySequence::Undo);
  QAction* redo = project_->undoStack()->createRedoAction(this, tr("&Redo"));
  redo->setShortcut(QKeySequence::Redo);
  edit->addAction(undo);
  edit->addAction(redo);

  QMenu* train = menuBar()->addMenu(tr("T&rain"));
  addItem(train, tr("&Start"), QKeySequence(Qt::Key_F5), trainPage_, &TrainPage::startRun);
  addItem(train, tr("&Pause / Resume"), QKeySequence(Qt::Key_F6), this,
          [this] { trainer_->isPaused() ? trainer_->resume() : trainer_->pause(); });
  addItem(train, tr("S&top"), QKeySequence(tr("Shift+F5")), trainer_, &TrainController::stop);
  train->addSeparator();
  addItem(train, tr("Find &Learning Rate\u2026"), QKeySequence(tr("Ctrl+L")), trainPage_,
          &TrainPage::findLearningRate);
  train->addAction(tr("Compare with From &Scratch"), trainPage_, &TrainPage::compareWithScratch);
  train->addAction(tr("Compare S&trategies"), trainPage_, &TrainPage::compareStrategies);
  train->addAction(tr("&Data-Efficiency Curve\u2026"), trainPage_, &TrainPage::showDataEfficiency);
  train->addAction(tr("Export &Report\u2026"), trainPage_, &TrainPage::exportReportInteractive);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < pages_->count(); ++i) {
    addItem(view, pages_->tabText(i).remove(QLatin1Char('&')),
            QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)), this,
            [this, i] { pages_->setCurrentIndex(i); });
  }

  view->addSeparator();
  presenterAction_ = view->addAction(tr("&Presenter Mode"));
  presenterAction_->setCheckable(true);
  presenterAction_->setShortcut(QKeySequence(Qt::Key_F9));
  presenterAction_->setToolTip(
      tr("Larger text and chart lines and a simpler Train page, for a "
         "projector"));
  connect(presenterAction_, &QAction::toggled, this, &MainWindow::setPresenterMode);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QMenu* examples = help->addMenu(tr("&Examples"));
  for (const Example& example : builtInExamples()) {
    examples->addAction(example.title, this, [this, id = example.id] {
      QString error;
      if (!openExample(id, &error) && !error.isEmpty())
        QMessageBox::warning(this, tr("Could not open the example"), error);
    });
  }
  help->addSeparator();
  help->addAction(tr("&About TransferLab"), this, [this] {
    QMessageBox::about(this, tr("About TransferLab"),
                       tr("<b>TransferLab %1</b><br>A desktop workbench for transfer learning.")
                           .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = project_->recentProjects();
  for (const QString& p : recent) {
    recentMenu_
        ->addAction(QFileInfo(p).fileName(), this,
                    [this, p] {
                      if (maybeSave()) openProject(p);
                    })
        ->setToolTip(p);
  }
  if (recent.isEmpty()) recentMenu_->addAction(tr("(none)"))->setEnabled(false);
}

void MainWindow::showRuntime(const core::RuntimeReport& r) {
  if (!runtimeInfo_) {
    runtimeInfo_ = new QLabel(this);
    statusBar()->addPermanentWidget(runtimeInfo_);
  }
  runtimeInfo_->setText(tr("%1 \u00b7 %2 threads \u00b7 %3")
                            .arg(QString::fromUtf8(core::blasKindName(r.blasKind)))
                            .arg(r.intraOpThreads)
                            .arg(r.gemmGflops > 0 ? tr("%1 GFLOP/s").arg(int(r.gemmGflops))
                                                  : tr("measuring GFLOP/s\u2026")));
  runtimeInfo_->setToolTip(QString::fromStdString(r.blasLibrary));
  if (r.warnings.empty()) {
    if (runtimeWarning_) runtimeWarning_->hide();
    return;
  }
  if (!runtimeWarning_) {
    runtimeWarning_ = new QLabel(this);
    runtimeWarning_->setStyleSheet(QStringLiteral("color: #a40000;"));
    statusBar()->addWidget(runtimeWarning_, 1);
  }
  const QString text = QString::fromStdString(r.warnings.front());
  runtimeWarning_->setText(QStringLiteral("\u26a0 ") + text);
  runtimeWarning_->setToolTip(text);
  runtimeWarning_->show();
}

void MainWindow::updateTitle() {
  const QString name = project_->filePath().isEmpty()
                           ? tr("Untitled")
                           : QFileInfo(project_->filePath()).completeBaseName();
  setWindowTitle(tr("%1%2 \u2014 TransferLab").arg(name, project_->isModified() ? "*" : ""));
}

void MainWindow::openDataset(const QString& path) {
  core::DatasetSettings s = project_->project().dataset;
  const std::string absolute = QFileInfo(path).absoluteFilePath().toStdString();
  if (s.path != absolute || s.format != "auto") {
    s.path = absolute;
    s.format = "auto";
    project_->setDatasetSettings(s, tr("open dataset %1").arg(QFileInfo(path).fileName()));
  }
  reloadDataset(ReloadPolicy::Always);  // also when it is the same path: re-read from disk
}

void MainWindow::reloadDataset(ReloadPolicy policy) {
  const core::DatasetSettings& s = project_->project().dataset;
  if (policy == ReloadPolicy::IfSourceChanged && loadedSource_ &&
      core::sameSource(*loadedSource_, s))
    return;
  loadedSource_ = s;
  // The format name was validated when the project was read or the dialog chose it.
  if (!s.path.empty())
    datasetController_->open(QString::fromStdString(s.path), core::readOptions(s));
}

bool MainWindow::openProject(const QString& path) {
  QString error;
  if (!project_->open(path, &error)) {
    QMessageBox::warning(this, tr("Could not open the project"), error);
    return false;
  }
  reloadDataset(ReloadPolicy::Always);
  return true;
}

void MainWindow::setPresenterMode(bool on) {
  if (on == presenterMode()) return;
  if (on) {
    presenterFont_ = QApplication::font();
    QApplication::setFont(scaledFont(*presenterFont_, kPresenterFontScale));
  } else {
    QApplication::setFont(*presenterFont_);
    presenterFont_.reset();
  }
  trainPage_->setPresenterMode(on);
  QSignalBlocker block(presenterAction_);
  presenterAction_->setChecked(on);
}

ExampleDialog* MainWindow::exampleDialog() const { return exampleDialog_.data(); }

CaptureDialog* MainWindow::captureDialog() const { return captureDialog_.data(); }

QString MainWindow::captureFolder() const {
  const QString dataset = QString::fromStdString(project_->project().dataset.path);
  if (!dataset.isEmpty() && QFileInfo(dataset).fileName().endsWith(QLatin1String("-captures")))
    return dataset;  // already capturing into it (possibly since before the project was saved)
  const QString file = project_->filePath();
  if (!file.isEmpty()) {
    const QFileInfo f(file);
    return f.dir().filePath(f.completeBaseName() + QStringLiteral("-captures"));
  }
  return untitledCaptures_;
}

CaptureDialog* MainWindow::showCapture() {
  static int untitledSerial = 0;    // two untitled projects in one millisecond still differ
  if (captureFolder().isEmpty()) {  // an unsaved project: a fresh folder in the data folder
    untitledCaptures_ = QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
                            .filePath(QStringLiteral("captures/untitled-%1-%2-captures")
                                          .arg(QDateTime::currentDateTime().toString(
                                              QStringLiteral("yyyyMMdd-hhmmss-zzz")))
                                          .arg(++untitledSerial));
  }
  if (!capture_->isRecording()) capture_->setRoot(captureFolder());
  if (!captureDialog_) {
    captureDialog_ = new CaptureDialog(capture_, predict_, this);
    connect(captureDialog_, &CaptureDialog::trainRequested, this, [this] {
      pages_->setCurrentWidget(trainPage_);
      trainPage_->startRun();
    });
  }
  captureDialog_->show();
  captureDialog_->raise();
  captureDialog_->activateWindow();
  return captureDialog_;
}

void MainWindow::capturesChanged() {
  const QString root = capture_->root();
  core::DatasetSettings s = project_->project().dataset;
  const std::string absolute = QFileInfo(root).absoluteFilePath().toStdString();
  if (s.path == absolute) {
    reloadDataset(ReloadPolicy::Always);  // the same folder, other files
    return;
  }
  if (capture_->classCounts().isEmpty()) return;  // an undo emptied a folder not in use
  s.path = absolute;
  s.format = "auto";
  project_->setDatasetSettings(
      s, tr("use captures %1 as the dataset").arg(QFileInfo(root).fileName()));
}

bool MainWindow::openExample(const QString& id, QString* error) {
  const std::vector<Example> all = builtInExamples();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const Example& e) { return e.id == id; });
  if (it == all.end()) {
    *error = tr("There is no example called %1.").arg(id);
    return false;
  }
  *error = exampleProblem(*it);
  if (!error->isEmpty()) return false;
  if (!maybeSave()) return false;  // the user cancelled: no message
  QString folder = examplesFolder_;
  if (folder.isEmpty())
    folder = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
             QStringLiteral("/examples");
  QString path;
  try {
    path = exampleProject(*it, folder);
  } catch (const std::exception& e) {
    *error = QString::fromStdString(e.what());
    return false;
  }
  if (!openProject(path)) return false;  // openProject has shown why
  if (exampleDialog_) exampleDialog_->close();
  exampleDialog_ = new ExampleDialog(*it, this);
  exampleDialog_->setAttribute(Qt::WA_DeleteOnClose);
  connect(
      exampleDialog_->curveButton(), &QPushButton::clicked, this,
      [this, strategies = it->curveStrategies] { trainPage_->showDataEfficiencyFor(strategies); });
  pages_->setCurrentWidget(trainPage_);
  exampleDialog_->show();
  return true;
}

bool MainWindow::saveProject() {
  if (project_->filePath().isEmpty()) return saveProjectAs();
  QString error;
  if (project_->save(&error)) return true;
  QMessageBox::warning(this, tr("Could not save the project"), error);
  return false;
}

bool MainWindow::saveProjectAs() {
  QString path = QFileDialog::getSaveFileName(this, tr("Save project"), project_->filePath(),
                                              tr("TransferLab projects (*.tlproj)"));
  if (path.isEmpty()) return false;
  if (!path.endsWith(QStringLiteral(".tlproj"))) path += QStringLiteral(".tlproj");
  QString error;
  if (project_->saveAs(path, &error)) return true;
  QMessageBox::warning(this, tr("Could not save the project"), error);
  return false;
}

bool MainWindow::maybeSave() {
  if (!project_->isModified()) return true;
  const auto answer = ask_(tr("Unsaved changes"), tr("The project has unsaved changes. Save them?"),
                           QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
  if (answer == QMessageBox::Save) return saveProject();
  return answer == QMessageBox::Discard;
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (trainer_->isRunning()) {
    const auto answer =
        ask_(tr("Training is running"), tr("A run is in progress. Stop it and close TransferLab?"),
             QMessageBox::Yes | QMessageBox::No);
    if (answer != QMessageBox::Yes) {
      event->ignore();
      return;
    }
  }
  if (!maybeSave()) {
    event->ignore();
    return;
  }
  trainer_->shutdown();  // the run ends as "cancelled" and is recorded in the project
  datasetController_->cancel();
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/page"), pages_->currentIndex());
  settings.setValue(QStringLiteral("view/presenter"), presenterMode());
  for (const char* name : kSplitters) {
    if (auto* s = findChild<QSplitter*>(QLatin1String(name)))
      settings.setValue(QStringLiteral("window/") + QLatin1String(name), s->saveState());
  }
  event->accept();
}

}  // namespace tlab::ui
