#include "ui/controllers/ProjectController.h"

#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QUndoStack>

#include "core/TestImages.h"

namespace tlab::ui {
namespace {

QString qpath(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

TEST(ProjectController, EditsAreUndoableAndTrackTheModifiedState) {
  ProjectController c;
  QSignalSpy modified(&c, &ProjectController::modifiedChanged);
  QSignalSpy config(&c, &ProjectController::configChanged);
  EXPECT_FALSE(c.isModified());
  core::TrainConfig cfg = c.project().config;
  cfg.lr = 0.05;
  c.setConfig(cfg, "change learning rate");
  EXPECT_TRUE(c.isModified());
  EXPECT_DOUBLE_EQ(c.project().config.lr, 0.05);
  EXPECT_EQ(config.count(), 1);
  EXPECT_EQ(c.undoStack()->undoText(), "change learning rate");
  c.undoStack()->undo();
  EXPECT_DOUBLE_EQ(c.project().config.lr, core::TrainConfig{}.lr);
  EXPECT_FALSE(c.isModified());
  c.undoStack()->redo();
  EXPECT_DOUBLE_EQ(c.project().config.lr, 0.05);
  EXPECT_GE(modified.count(), 3);

  c.setLabel("#3", "Shirt");
  c.setLabel("#3", "");  // a second edit of the same sample replaces the first
  ASSERT_EQ(c.project().labelEdits.size(), 1u);
  EXPECT_EQ(c.project().labelEdits[0].label, "");
  c.undoStack()->undo();
  ASSERT_EQ(c.project().labelEdits.size(), 1u);
  EXPECT_EQ(c.project().labelEdits[0].label, "Shirt");
  c.undoStack()->undo();
  EXPECT_TRUE(c.project().labelEdits.empty());
}

TEST(ProjectController, SaveOpenRoundTripAndRecentList) {
  test::TempDir dir;
  ProjectController a;
  core::TrainConfig cfg = a.project().config;
  cfg.backbone = "efficientnet_lite0";
  cfg.epochs = 7;
  a.setConfig(cfg, "set up");
  core::DatasetSettings ds;
  ds.path = (dir / "data.h5").string();
  ds.splitSeed = 9;
  a.setDatasetSettings(ds, "choose dataset");
  QString error;
  EXPECT_FALSE(a.save(&error)) << "no file yet";
  ASSERT_TRUE(a.saveAs(qpath(dir / "p.tlproj"), &error)) << error.toStdString();
  EXPECT_FALSE(a.isModified());
  EXPECT_EQ(a.recentProjects().value(0), qpath(dir / "p.tlproj"));

  ProjectController b;
  QSignalSpy replaced(&b, &ProjectController::projectReplaced);
  ASSERT_TRUE(b.open(qpath(dir / "p.tlproj"), &error)) << error.toStdString();
  EXPECT_EQ(replaced.count(), 1);
  EXPECT_EQ(b.project().config.backbone, "efficientnet_lite0");
  EXPECT_EQ(b.project().config.epochs, 7);
  EXPECT_EQ(b.project().dataset.path, ds.path);
  EXPECT_EQ(b.project().dataset.splitSeed, 9u);
  EXPECT_FALSE(b.undoStack()->canUndo());

  // A damaged file: open fails with the file named, the open project stays.
  test::writeText(dir / "bad.tlproj", "{ not json");
  EXPECT_FALSE(b.open(qpath(dir / "bad.tlproj"), &error));
  EXPECT_TRUE(error.contains("bad.tlproj")) << error.toStdString();
  EXPECT_EQ(b.project().config.epochs, 7);
  EXPECT_EQ(b.filePath(), qpath(dir / "p.tlproj"));
}

TEST(ProjectController, RunResultsAutosaveWithoutSavingOtherEdits) {
  test::TempDir dir;
  ProjectController c;
  QString error;
  ASSERT_TRUE(c.saveAs(qpath(dir / "p.tlproj"), &error));
  core::TrainConfig cfg = c.project().config;
  cfg.lr = 0.5;
  c.setConfig(cfg, "unsaved edit");
  core::RunRecord run;
  run.id = "run-1";
  run.status = core::RunStatus::Finished;
  run.testAccuracy = 0.83;
  run.history.push_back({1, 1, "fine-tune", 1.0, 0.5, 0.9, 0.6, 2.0, 1e-3, true});
  QSignalSpy runs(&c, &ProjectController::runsChanged);
  c.upsertRun(run);
  EXPECT_EQ(runs.count(), 1);
  const core::Project onDisk = core::loadProject(dir / "p.tlproj");
  ASSERT_EQ(onDisk.runs.size(), 1u);
  EXPECT_DOUBLE_EQ(*onDisk.runs[0].testAccuracy, 0.83);
  EXPECT_DOUBLE_EQ(onDisk.config.lr, core::TrainConfig{}.lr) << "the edit was not saved";
  EXPECT_TRUE(c.isModified());
  run.status = core::RunStatus::Cancelled;
  c.upsertRun(run);  // same id: updated, not duplicated
  EXPECT_EQ(c.project().runs.size(), 1u);
  EXPECT_EQ(core::loadProject(dir / "p.tlproj").runs[0].status, core::RunStatus::Cancelled);

  // Without a file, runs make the project modified (nothing to autosave into).
  ProjectController fresh;
  fresh.upsertRun(run);
  EXPECT_TRUE(fresh.isModified());
}

}  // namespace
}  // namespace tlab::ui
