#include "ui/widgets/DataEfficiencyDialog.h"

#include <gtest/gtest.h>

#include <qcustomplot.h>
#include <QCheckBox>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTest>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/TextFixtures.h"
#include "ui/controllers/DataEfficiencyController.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {
namespace {

// The tiny text backbone trains in milliseconds: the whole experiment runs within the test.
void useTinyText(ProjectController& project) {
  core::TrainConfig c = project.project().config;
  c.backbone = "tiny_bert";
  c.batchSize = 8;
  c.epochs = 1;
  project.setConfig(c, "tiny");
}

TEST(DataEfficiencyDialog, PlotsEveryStrategyLiveAndSavesWhatItShows) {
  test::TinyTextCatalog catalog;
  ProjectController project;
  useTinyText(project);
  DataEfficiencyDialog dialog(&project, test::topicTexts(6));
  dialog.sizesEdit()->setText("1, 3, 50");  // 50 > the 6 a class has: replaced by 6
  dialog.seedsBox()->setValue(2);
  QSignalSpy runs(dialog.controller(), &DataEfficiencyController::runFinished);
  QSignalSpy finished(dialog.controller(), &DataEfficiencyController::finished);
  ASSERT_TRUE(dialog.start());
  EXPECT_FALSE(dialog.startButton()->isEnabled());
  EXPECT_TRUE(dialog.stopButton()->isEnabled());
  EXPECT_FALSE(dialog.sizesEdit()->isEnabled());
  ASSERT_TRUE(finished.wait(120000)) << dialog.status()->text().toStdString();
  EXPECT_FALSE(finished.at(0).at(0).toBool());  // not cancelled
  EXPECT_EQ(runs.count(), 3 * 2 * 2);           // sizes x seeds x (linear probe, scratch)
  EXPECT_EQ(dialog.controller()->perClass(), (std::vector<int>{1, 3, 6}));
  // One line (with min-max bars) per strategy, a point per size; a table row per size.
  ASSERT_EQ(dialog.plot()->graphCount(), 2);
  for (int g = 0; g < 2; ++g) EXPECT_EQ(dialog.plot()->graph(g)->data()->size(), 3);
  EXPECT_EQ(dialog.plot()->plottableCount(), 4);
  EXPECT_EQ(dialog.table()->rowCount(), 3);
  EXPECT_EQ(dialog.table()->columnCount(), 3);
  EXPECT_EQ(dialog.table()->item(2, 0)->text(), "6");
  const auto points = dialog.controller()->points();
  ASSERT_EQ(points.size(), 6u);
  EXPECT_NEAR(dialog.plot()->graph(0)->data()->at(0)->value, points[0].mean, 1e-12);
  // Presenter mode: thicker lines and points, larger axis text; off restores them.
  const double tick = dialog.plot()->xAxis->tickLabelFont().pointSizeF();
  dialog.setPresenterMode(true);
  EXPECT_DOUBLE_EQ(dialog.plot()->graph(0)->pen().widthF(), 4);
  EXPECT_DOUBLE_EQ(dialog.plot()->graph(0)->scatterStyle().size(), 14);
  EXPECT_NEAR(dialog.plot()->xAxis->tickLabelFont().pointSizeF(), tick * 1.5, 0.01);
  dialog.setPresenterMode(false);
  EXPECT_DOUBLE_EQ(dialog.plot()->graph(0)->pen().widthF(), 2);
  EXPECT_DOUBLE_EQ(dialog.plot()->xAxis->tickLabelFont().pointSizeF(), tick);
  EXPECT_TRUE(dialog.startButton()->isEnabled());
  EXPECT_TRUE(dialog.status()->text().startsWith("Done: 12 of 12 runs"))
      << dialog.status()->text().toStdString();

  test::TempDir dir;
  QString error;
  const QString csv = QString::fromStdString((dir / "curve.csv").string());
  ASSERT_TRUE(dialog.saveTo(csv, &error)) << error.toStdString();
  QFile written(csv);
  ASSERT_TRUE(written.open(QIODevice::ReadOnly));
  EXPECT_EQ(written.readAll().count('\n'), 13);  // header + 12 runs
  EXPECT_FALSE(QImage(QString::fromStdString((dir / "curve.png").string())).isNull());
  // A folder that does not exist: a message naming it, nothing claimed.
  EXPECT_FALSE(dialog.saveTo(QString::fromStdString((dir / "missing/x.csv").string()), &error));
  EXPECT_FALSE(error.isEmpty());
}

TEST(DataEfficiencyDialog, StopKeepsTheFinishedRuns) {
  test::TinyTextCatalog catalog;
  ProjectController project;
  useTinyText(project);
  DataEfficiencyDialog dialog(&project, test::topicTexts(6));
  dialog.sizesEdit()->setText("1, 2, 3, 4, 5, 6");
  dialog.seedsBox()->setValue(3);
  QSignalSpy runs(dialog.controller(), &DataEfficiencyController::runFinished);
  QSignalSpy finished(dialog.controller(), &DataEfficiencyController::finished);
  ASSERT_TRUE(dialog.start());
  ASSERT_TRUE(runs.wait(60000));
  dialog.stopButton()->click();
  ASSERT_TRUE(finished.wait(60000));
  EXPECT_TRUE(finished.at(0).at(0).toBool());  // cancelled
  const size_t kept = dialog.controller()->rows().size();
  EXPECT_GE(kept, 1u);
  EXPECT_LT(kept, 36u);
  EXPECT_EQ(runs.count(), int(kept));
  EXPECT_TRUE(dialog.status()->text().startsWith("Stopped:"))
      << dialog.status()->text().toStdString();
}

TEST(DataEfficiencyDialog, ClosingAsksBeforeStoppingRunsOrLosingUnsavedResults) {
  test::TinyTextCatalog catalog;
  ProjectController project;
  useTinyText(project);
  DataEfficiencyDialog dialog(&project, test::topicTexts(6));
  QStringList asked;
  QMessageBox::StandardButton answer = QMessageBox::Cancel;
  dialog.setAsk([&](const QString& text, QMessageBox::StandardButtons) {
    asked << text;
    return answer;
  });
  dialog.sizesEdit()->setText("1, 2, 3, 4, 5, 6");
  dialog.seedsBox()->setValue(3);
  dialog.show();
  QSignalSpy runs(dialog.controller(), &DataEfficiencyController::runFinished);
  QSignalSpy finished(dialog.controller(), &DataEfficiencyController::finished);
  ASSERT_TRUE(dialog.start());
  ASSERT_TRUE(runs.wait(60000));

  // While it runs: Cancel keeps it open and running; Escape asks the same.
  EXPECT_FALSE(dialog.close());
  ASSERT_EQ(asked.size(), 1);
  EXPECT_TRUE(asked[0].contains("running")) << asked[0].toStdString();
  EXPECT_TRUE(dialog.isVisible());
  EXPECT_TRUE(dialog.controller()->isRunning());
  QTest::keyClick(&dialog, Qt::Key_Escape);
  EXPECT_EQ(asked.size(), 2);
  EXPECT_TRUE(dialog.isVisible());
  // Close: the runs stop (the finished ones stay).
  answer = QMessageBox::Close;
  EXPECT_TRUE(dialog.close());
  EXPECT_EQ(asked.size(), 3);
  ASSERT_TRUE(finished.wait(60000));
  EXPECT_TRUE(finished.at(0).at(0).toBool());  // cancelled
  ASSERT_GE(dialog.controller()->rows().size(), 1u);

  // Stopped with unsaved results: asked again; Cancel keeps the window.
  dialog.show();
  answer = QMessageBox::Cancel;
  EXPECT_FALSE(dialog.close());
  ASSERT_EQ(asked.size(), 4) << asked.join(" | ").toStdString();
  EXPECT_TRUE(asked[3].contains("not saved")) << asked[3].toStdString();
  // Saved: closing needs no question.
  test::TempDir dir;
  QString error;
  ASSERT_TRUE(dialog.saveTo(QString::fromStdString((dir / "curve.csv").string()), &error))
      << error.toStdString();
  EXPECT_TRUE(dialog.close());
  EXPECT_EQ(asked.size(), 4);
}

TEST(DataEfficiencyDialog, RefusesAnUnusableForm) {
  ProjectController project;
  DataEfficiencyDialog dialog(&project, test::topicTexts(6));
  dialog.sizesEdit()->setText("1, two");
  EXPECT_FALSE(dialog.start());
  EXPECT_TRUE(dialog.status()->text().contains("'two'")) << dialog.status()->text().toStdString();
  dialog.sizesEdit()->setText("5");
  for (auto s : {core::Strategy::LinearProbe, core::Strategy::FinetuneLast, core::Strategy::Full,
                 core::Strategy::Scratch})
    dialog.strategyBox(s)->setChecked(false);
  EXPECT_FALSE(dialog.start());
  EXPECT_FALSE(dialog.controller()->isRunning());
  DataEfficiencyDialog noData(&project, nullptr);
  EXPECT_FALSE(noData.start());
}

}  // namespace
}  // namespace tlab::ui
