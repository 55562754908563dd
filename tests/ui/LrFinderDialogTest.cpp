#include "ui/widgets/LrFinderDialog.h"

#include <gtest/gtest.h>

#include <qcustomplot.h>
#include <QPushButton>
#include <QSignalSpy>
#include <QUndoStack>

#include "core/TextFixtures.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {
namespace {

TEST(LrFinderDialog, SweepsInTheBackgroundAndAppliesTheSuggestion) {
  test::TinyTextCatalog catalog;
  ProjectController project;
  core::TrainConfig c = project.project().config;
  c.backbone = "tiny_bert";
  c.strategy = core::Strategy::Full;
  c.batchSize = 8;
  project.setConfig(c, "tiny");
  LrFinderDialog dialog(&project, test::topicTexts(20), 30);
  QSignalSpy finished(&dialog, &LrFinderDialog::finished);
  dialog.start();
  EXPECT_TRUE(dialog.isRunning());
  ASSERT_TRUE(finished.wait(60000));
  const auto& r = dialog.result();
  ASSERT_FALSE(r.lrs.empty()) << r.note;
  ASSERT_GT(r.suggested, 0) << r.note;
  EXPECT_TRUE(dialog.applyButton()->isEnabled());
  EXPECT_EQ(dialog.plot()->graphCount(), 1);
  dialog.applyButton()->click();
  EXPECT_DOUBLE_EQ(project.project().config.lr, r.suggested);
  project.undoStack()->undo();  // applying is an ordinary, undoable edit
  EXPECT_DOUBLE_EQ(project.project().config.lr, c.lr);
}

}  // namespace
}  // namespace tlab::ui
