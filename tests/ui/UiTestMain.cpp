// GoogleTest main for widget tests: a QApplication must exist before any widget.
#include <gtest/gtest.h>

#include <QApplication>

#include "ui/capture/FrameSource.h"

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM",
          qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
  tlab::ui::FrameSource::preferFfmpegBackend();
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("TransferLabTests"));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
