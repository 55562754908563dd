// transferlab: the desktop workbench.
//   transferlab [PROJECT.tlproj | DATASET]
// With no argument it reopens the most recent project, else the bundled demo project
// ($TLAB_DEMO_PROJECT, or build/demo/fashion-fewshot.tlproj made by scripts/prepare-demo-data).
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTimer>
#include <cstdio>
#include <cstring>

#include "core/runtime/Runtime.h"
#include "ui/capture/FrameSource.h"
#include "ui/controllers/ProjectController.h"
#include "ui/pages/MainWindow.h"
#include "ui/widgets/ExampleDialog.h"

namespace {

QString demoProject() {
  const QByteArray env = qgetenv("TLAB_DEMO_PROJECT");
  if (!env.isEmpty()) return QString::fromLocal8Bit(env);
  const QString demo = tlab::ui::demoFolder();
  const QString project = demo + QStringLiteral("/fashion-fewshot.tlproj");
  return !demo.isEmpty() && QFileInfo::exists(project) ? project : QString();
}

}  // namespace

int main(int argc, char** argv) {
  // Answered before QApplication, which needs a display: `transferlab --version` works anywhere.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-v") == 0) {
      std::printf("transferlab %s\n", TLAB_VERSION);
      return 0;
    }
  }
  tlab::ui::FrameSource::preferFfmpegBackend();
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("TransferLab"));
  QApplication::setOrganizationName(QStringLiteral("TransferLab"));
  QApplication::setApplicationVersion(QStringLiteral(TLAB_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Transfer learning workbench"));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("file"),
                               QStringLiteral("Project (.tlproj), or a dataset folder or file"));
  parser.process(app);

  // The BLAS probe runs after the window is up (MainWindow starts it in the background).
  const tlab::core::RuntimeReport runtime = tlab::core::configureRuntime({0, false});
  tlab::ui::MainWindow window(runtime);
  window.show();
  // For bench/startup: the time to the first window, then quit.
  if (qEnvironmentVariableIsSet("TLAB_QUIT_AFTER_FIRST_WINDOW"))
    QTimer::singleShot(0, &app, &QApplication::quit);
  QString target = parser.positionalArguments().value(0);
  if (target.isEmpty()) {
    const QStringList recent = window.projectController()->recentProjects();
    target = recent.isEmpty() ? demoProject() : recent.first();
  }
  if (target.endsWith(QStringLiteral(".tlproj"))) {
    window.openProject(target);
  } else if (!target.isEmpty()) {
    window.openDataset(target);
  }
  return app.exec();
}
