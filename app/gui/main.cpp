// transferlab: the desktop workbench. `transferlab [DATASET]` opens a dataset at start.
#include <QApplication>
#include <QCommandLineParser>

#include "core/runtime/Runtime.h"
#include "ui/MainWindow.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("TransferLab"));
  QApplication::setOrganizationName(QStringLiteral("TransferLab"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Transfer learning workbench"));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("dataset"),
                               QStringLiteral("Dataset folder or file to open"));
  parser.process(app);

  const tlab::core::RuntimeReport runtime = tlab::core::configureRuntime();
  tlab::ui::MainWindow window(runtime);
  window.show();
  if (!parser.positionalArguments().isEmpty())
    window.openDataset(parser.positionalArguments().first());
  return app.exec();
}
