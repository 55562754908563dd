// Help -> Examples: the bundled negative-transfer scenario opens as the user's own project copy,
// with its explanation and a data-efficiency curve set up for the comparison; an example whose
// data are missing says which file and changes nothing.
#include "ui/widgets/DataEfficiencyDialog.h"  // first: LibTorch before Qt

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>
#include <QTextBrowser>

#include "core/ScopedEnv.h"
#include "core/TestImages.h"
#include "core/dataset/Dataset.h"
#include "core/project/Project.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/pages/MainWindow.h"
#include "ui/pages/TrainPage.h"
#include "ui/widgets/ExampleDialog.h"

namespace tlab::ui {
namespace {

constexpr const char* kDigits = "negative-transfer-digits";

TEST(Examples, TheMenuOffersOneWherePretrainingHelpsAndOneWhereItHurts) {
  const std::vector<Example> examples = builtInExamples();
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].id, QLatin1String(kDigits));
  EXPECT_EQ(examples[1].backbone, "small_cnn_fmnist");
  EXPECT_EQ(examples[1].strategy, "linear-probe");
  // The negative-transfer data ship with the program: nothing keeps it from opening.
  EXPECT_TRUE(exampleProblem(examples[1]).isEmpty()) << exampleProblem(examples[1]).toStdString();
}

TEST(Examples, NegativeTransferOpensAsTheUsersOwnCopyWithItsExplanation) {
  test::TempDir dir;
  const QString folder = QString::fromStdString((dir / "examples").string());
  core::RuntimeReport runtime;
  MainWindow window(runtime);
  window.setExamplesFolder(folder);
  window.show();
  QSignalSpy loaded(window.datasetController(), &DatasetController::loaded);
  QString error;
  ASSERT_TRUE(window.openExample(QLatin1String(kDigits), &error)) << error.toStdString();
  ASSERT_TRUE(loaded.wait(30000));

  const QString copy = folder + QStringLiteral("/negative-transfer-digits.tlproj");
  EXPECT_EQ(window.projectController()->filePath(), copy);
  const core::Project& project = window.projectController()->project();
  EXPECT_EQ(project.config.backbone, "small_cnn_fmnist");
  EXPECT_EQ(project.config.strategy, core::Strategy::LinearProbe);
  const auto dataset = window.datasetController()->dataset();
  ASSERT_TRUE(dataset);
  EXPECT_EQ(dataset->size(), 2000u);  // 100 + 100 per digit, train and test
  EXPECT_EQ(dataset->numClasses(), 10u);
  EXPECT_EQ(window.pages()->currentWidget(), window.trainPage());

  ExampleDialog* explanation = window.exampleDialog();
  ASSERT_TRUE(explanation);
  EXPECT_TRUE(explanation->isVisible());
  EXPECT_TRUE(explanation->text()->toPlainText().contains(QStringLiteral("Negative transfer")));

  // The curve button opens the data-efficiency curve comparing probe, fine-tuning the last stages,
  // scratch.
  explanation->curveButton()->click();
  auto* curve = window.trainPage()->findChild<DataEfficiencyDialog*>();
  ASSERT_TRUE(curve);
  EXPECT_TRUE(curve->strategyBox(core::Strategy::LinearProbe)->isChecked());
  EXPECT_TRUE(curve->strategyBox(core::Strategy::FinetuneLast)->isChecked());
  EXPECT_TRUE(curve->strategyBox(core::Strategy::Scratch)->isChecked());
  EXPECT_FALSE(curve->strategyBox(core::Strategy::Full)->isChecked());
  curve->close();

  // Opening it again keeps the user's copy (and whatever they did in it).
  core::Project edited = core::loadProject(copy.toStdString());
  edited.name = "my digits";
  core::saveProject(copy.toStdString(), edited);
  ASSERT_TRUE(window.openExample(QLatin1String(kDigits), &error)) << error.toStdString();
  EXPECT_EQ(window.projectController()->project().name, "my digits");
  // The bundled data were only read.
  EXPECT_EQ(core::loadProject(copy.toStdString()).dataset.path,
            QFileInfo(builtInExamples()[1].datasetPath).absoluteFilePath().toStdString());
}

// Needs scripts/prepare-demo-data and scripts/fetch-weights (scripts/test runs both).
TEST(Examples, TransferHelpsOpensWhereItsDataAndWeightsAre) {
  const Example helps = builtInExamples()[0];
  const QString problem = exampleProblem(helps);
  if (!problem.isEmpty()) GTEST_SKIP() << problem.toStdString();
  test::TempDir dir;
  MainWindow window(core::RuntimeReport{});
  window.setExamplesFolder(QString::fromStdString((dir / "examples").string()));
  QSignalSpy loaded(window.datasetController(), &DatasetController::loaded);
  QString error;
  ASSERT_TRUE(window.openExample(helps.id, &error)) << error.toStdString();
  ASSERT_TRUE(loaded.wait(60000));
  const core::TrainConfig& config = window.projectController()->project().config;
  EXPECT_EQ(config.backbone, "efficientnet_lite0");
  EXPECT_EQ(config.strategy, core::Strategy::LinearProbe);
  EXPECT_EQ(config.imageSize, 96);
  EXPECT_EQ(window.datasetController()->dataset()->size(), 11000u);  // 1,000 train + 10,000 test
  ASSERT_TRUE(window.exampleDialog());
  EXPECT_TRUE(window.exampleDialog()->text()->toPlainText().contains(QStringLiteral("78%")));
}

TEST(Examples, MissingDataAreNamedAndTheOpenProjectStays) {
  test::TempDir dir;
  core::RuntimeReport runtime;
  MainWindow window(runtime);
  window.setExamplesFolder(QString::fromStdString((dir / "examples").string()));
  const QString before = window.projectController()->filePath();
  QString error;
  EXPECT_FALSE(window.openExample(QStringLiteral("no-such-example"), &error));
  EXPECT_TRUE(error.contains(QStringLiteral("no-such-example"))) << error.toStdString();
  {
    // A resource folder without the bundled digits (a broken install).
    test::ScopedEnv resources("TLAB_RESOURCE_DIR", (dir / "empty-resources").string());
    EXPECT_FALSE(window.openExample(QLatin1String(kDigits), &error));
  }
  EXPECT_TRUE(error.contains(QStringLiteral("opencv-digits.h5"))) << error.toStdString();
  EXPECT_TRUE(error.contains(QStringLiteral("missing"))) << error.toStdString();
  EXPECT_EQ(window.projectController()->filePath(), before);
  EXPECT_FALSE(window.exampleDialog());
  EXPECT_FALSE(QFileInfo::exists(QString::fromStdString((dir / "examples").string())));
}

}  // namespace
}  // namespace tlab::ui
