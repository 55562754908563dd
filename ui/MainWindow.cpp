#include "ui/MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>

#include "ui/DatasetController.h"
#include "ui/DatasetPage.h"

namespace tlab::ui {

MainWindow::MainWindow(const core::RuntimeReport& runtime, QWidget* parent)
    : QMainWindow(parent),
      datasetController_(new DatasetController(this)),
      datasetPage_(new DatasetPage(datasetController_, this)) {
  setWindowTitle(tr("TransferLab"));
  setCentralWidget(datasetPage_);
  createMenus();
  showRuntime(runtime);
  resize(1100, 720);
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  if (auto* splitter = findChild<QSplitter*>(QStringLiteral("dataSplitter"))) {
    splitter->restoreState(settings.value(QStringLiteral("window/dataSplitter")).toByteArray());
  }
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* openFolder = file->addAction(tr("Open Dataset &Folder\u2026"), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open dataset folder"));
    if (!dir.isEmpty()) openDataset(dir);
  });
  openFolder->setShortcut(QKeySequence::Open);
  QAction* openFile = file->addAction(tr("Open Dataset F&ile\u2026"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open dataset file"), QString(),
        tr("Datasets (*.csv *.tsv *.jsonl *.h5 *.hdf5 *idx*);;All files (*)"));
    if (!path.isEmpty()) openDataset(path);
  });
  openFile->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About TransferLab"), this, [this] {
    QMessageBox::about(this, tr("About TransferLab"),
                       tr("<b>TransferLab %1</b><br>A desktop workbench for transfer learning.")
                           .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::showRuntime(const core::RuntimeReport& r) {
  auto* info = new QLabel(tr("%1 \u00b7 %2 threads \u00b7 %3 GFLOP/s")
                              .arg(QString::fromUtf8(core::blasKindName(r.blasKind)))
                              .arg(r.intraOpThreads)
                              .arg(int(r.gemmGflops)),
                          this);
  info->setToolTip(QString::fromStdString(r.blasLibrary));
  statusBar()->addPermanentWidget(info);
  if (!r.warnings.empty()) {
    const QString text = QString::fromStdString(r.warnings.front());
    auto* warning = new QLabel(QStringLiteral("\u26a0 ") + text, this);
    warning->setStyleSheet(QStringLiteral("color: #a40000;"));
    warning->setToolTip(text);
    statusBar()->addWidget(warning, 1);
  }
}

void MainWindow::openDataset(const QString& path) { datasetController_->open(path); }

void MainWindow::closeEvent(QCloseEvent* event) {
  datasetController_->cancel();
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  if (auto* splitter = findChild<QSplitter*>(QStringLiteral("dataSplitter"))) {
    settings.setValue(QStringLiteral("window/dataSplitter"), splitter->saveState());
  }
  event->accept();
}

}  // namespace tlab::ui
