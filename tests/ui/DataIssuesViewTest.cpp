// The Data issues review flow: the check runs off the GUI thread on a folder dataset with
// planted label errors, then A (accept), X (exclude) and K (keep) review findings from the
// keyboard as project edits that Edit -> Undo takes back; the sample browser filters to the
// flagged samples; "Retrain with fixes" asks for a run.
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>
#include <QUndoStack>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "cli/ShapesDataset.h"
#include "core/Sanitizers.h"
#include "core/dataset/Readers.h"
#include "core/project/Project.h"
#include "ui/controllers/DataIssuesController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/models/SampleModel.h"
#include "ui/widgets/DataIssuesView.h"
#include "ui/widgets/SampleBrowser.h"

namespace tlab::ui {
namespace {
namespace fs = std::filesystem;

// train/<class>/ and test/<class>/ shape images; the first image of each class in the wrong
// training folder.
std::shared_ptr<const core::Dataset> plantedFolder(const test::TempDir& dir) {
  const char* classes[3] = {"square", "horizontal", "vertical"};
  for (int i = 0; i < 120; ++i) {
    const int cls = i % 3;
    const bool train = i < 90;
    const int folder = train && i < 3 ? (cls + 1) % 3 : cls;
    const fs::path d = dir / (train ? "train" : "test") / classes[folder];
    fs::create_directories(d);
    cv::imwrite((d / ("img" + std::to_string(i) + ".png")).string(), test::shapeImage(cls, i));
  }
  return std::make_shared<const core::Dataset>(core::openDataset(dir.path()));
}

const core::LabelEdit* editOf(const ProjectController& p, const std::string& key) {
  for (const auto& e : p.project().labelEdits)
    if (e.sampleKey == key) return &e;
  return nullptr;
}

TEST(DataIssuesView, ReviewFromTheKeyboardIsUndoableAndFiltersTheBrowser) {
  if (test::kAddressSanitizer) GTEST_SKIP() << "slow under ASan; core tests cover the maths";
  test::TempDir dir;
  const auto source = plantedFolder(dir);
  ProjectController project;
  auto config = project.project().config;
  config.backbone = "small_cnn_fmnist";
  project.setConfig(config, "backbone");
  DataIssuesController controller(&project);
  DataIssuesView view(&controller, &project);
  SampleBrowser browser(&project);
  browser.setDataset(source);
  QObject::connect(&controller, &DataIssuesController::finished,
                   [&] { browser.setFlaggedKeys(controller.flaggedKeys()); });
  view.setDataset(source);
  ASSERT_EQ(view.backboneBox()->currentData().toString(), QStringLiteral("small_cnn_fmnist"));
  view.resize(900, 500);
  view.show();

  QSignalSpy finished(&controller, &DataIssuesController::finished);
  QSignalSpy progress(&controller, &DataIssuesController::progress);
  view.findButton()->click();
  EXPECT_TRUE(controller.isRunning());
  EXPECT_FALSE(view.findButton()->isEnabled());
  ASSERT_TRUE(finished.wait(120000)) << view.summaryText().toStdString();
  EXPECT_GT(progress.count(), 0);
  EXPECT_TRUE(view.findButton()->isEnabled());

  // The three planted label errors are among the findings, each with its true class suggested.
  const auto& rows = controller.rows();
  std::vector<int> labelRows;
  for (int r = 0; r < rows.size(); ++r)
    if (rows[r].kind == DataIssueRow::Kind::Label) labelRows.push_back(r);
  std::set<std::string> planted;
  for (int r : labelRows) {
    const auto& s = controller.training()->samples[rows[r].sample];
    const std::string name = fs::path(s.path).filename().string();
    if (name == "img0.png" || name == "img1.png" || name == "img2.png") planted.insert(name);
  }
  EXPECT_EQ(planted.size(), 3u) << view.summaryText().toStdString();
  ASSERT_GE(labelRows.size(), 3u);
  EXPECT_EQ(view.table()->rowCount(), rows.size());

  // The browser's filter shows exactly the flagged samples.
  ASSERT_TRUE(browser.flaggedFilter()->isVisibleTo(&browser));
  browser.flaggedFilter()->setChecked(true);
  EXPECT_EQ(size_t(browser.model()->rowCount()), controller.flaggedKeys().size());

  // A on the first finding: relabelled to the suggestion; the selection moves on.
  view.table()->setFocus();
  view.table()->setCurrentCell(labelRows[0], 1);
  const std::string key0 = rows[labelRows[0]].key;
  QTest::keyClick(view.table(), Qt::Key_A);
  ASSERT_NE(editOf(project, key0), nullptr);
  EXPECT_EQ(editOf(project, key0)->label, rows[labelRows[0]].suggested.toStdString());
  EXPECT_EQ(controller.reviewOf(labelRows[0]), DataIssuesController::Review::Relabelled);
  EXPECT_GT(view.table()->currentRow(), labelRows[0]);
  EXPECT_TRUE(view.table()->item(labelRows[0], 5)->text().contains(rows[labelRows[0]].suggested));

  // X on the next: excluded. K on the one after: kept, no label edit.
  view.table()->setCurrentCell(labelRows[1], 1);
  const std::string key1 = rows[labelRows[1]].key;
  QTest::keyClick(view.table(), Qt::Key_X);
  ASSERT_NE(editOf(project, key1), nullptr);
  EXPECT_EQ(editOf(project, key1)->label, "");
  EXPECT_EQ(controller.reviewOf(labelRows[1]), DataIssuesController::Review::Excluded);
  view.table()->setCurrentCell(labelRows[2], 1);
  const size_t editsBefore = project.project().labelEdits.size();
  QTest::keyClick(view.table(), Qt::Key_K);
  EXPECT_EQ(controller.reviewOf(labelRows[2]), DataIssuesController::Review::Kept);
  EXPECT_EQ(project.project().labelEdits.size(), editsBefore);
  EXPECT_EQ(view.table()->item(labelRows[2], 5)->text(), QStringLiteral("kept"));
  EXPECT_TRUE(view.retrainButton()->isEnabled());

  // The review is part of the project: the kept mark and the edits are saved and read back.
  const QString file = QString::fromStdString((dir.path() / "reviewed.tlproj").string());
  QString error;
  ASSERT_TRUE(project.saveAs(file, &error)) << error.toStdString();
  const core::Project saved = core::loadProject(file.toStdString());
  EXPECT_EQ(saved.keptLabels, std::vector<std::string>{rows[labelRows[2]].key});
  ASSERT_EQ(saved.labelEdits.size(), 2u);
  EXPECT_EQ(saved.labelEdits[1].label, "");

  // Undo takes them back one by one, newest first; redo replays.
  project.undoStack()->undo();
  EXPECT_EQ(controller.reviewOf(labelRows[2]), DataIssuesController::Review::Open);
  project.undoStack()->undo();
  EXPECT_EQ(editOf(project, key1), nullptr);
  EXPECT_EQ(controller.reviewOf(labelRows[1]), DataIssuesController::Review::Open);
  project.undoStack()->undo();
  EXPECT_EQ(editOf(project, key0), nullptr);
  EXPECT_EQ(view.table()->item(labelRows[0], 5)->text(), QString());
  EXPECT_FALSE(view.retrainButton()->isEnabled());
  project.undoStack()->redo();
  EXPECT_EQ(controller.reviewOf(labelRows[0]), DataIssuesController::Review::Relabelled);

  QSignalSpy retrain(&view, &DataIssuesView::retrainRequested);
  view.retrainButton()->click();
  EXPECT_EQ(retrain.count(), 1);
}

TEST(DataIssuesView, CancelStopsTheCheckAndSaysSo) {
  test::TempDir dir;
  const auto source = plantedFolder(dir);
  ProjectController project;
  DataIssuesController controller(&project);
  DataIssuesView view(&controller, &project);
  view.setDataset(source);
  const int at = view.backboneBox()->findData(QStringLiteral("small_cnn_fmnist"));
  ASSERT_GE(at, 0);
  view.backboneBox()->setCurrentIndex(at);
  QSignalSpy failed(&controller, &DataIssuesController::failed);
  view.findButton()->click();
  controller.cancel();
  ASSERT_EQ(failed.count(), 1);
  EXPECT_TRUE(failed.at(0).at(0).toString().contains(QStringLiteral("Cancelled")));
  EXPECT_FALSE(controller.isRunning());
  EXPECT_TRUE(view.findButton()->isEnabled());
  EXPECT_TRUE(controller.rows().isEmpty());
}

}  // namespace
}  // namespace tlab::ui
