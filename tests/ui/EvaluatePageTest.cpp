#include "ui/pages/EvaluatePage.h"

#include <gtest/gtest.h>

#include <qcustomplot.h>
#include <QFontMetrics>
#include <QListWidget>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>
#include <cmath>

#include "ui/controllers/EvaluateController.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {
namespace {

// Six samples, three classes: 0,0 right; 1 predicted as 2 twice (confidence 0.7 and 0.5);
// 2 right; 0 predicted as 1 once.
std::pair<core::EvaluationResult, std::shared_ptr<core::Dataset>> sixSamples() {
  auto ds = std::make_shared<core::Dataset>();
  ds->modality = core::Modality::Text;
  ds->classNames = {"cats", "dogs", "fish"};
  const std::vector<int32_t> labels{0, 0, 1, 1, 2, 0};
  for (int i = 0; i < 6; ++i)
    ds->samples.push_back(
        {"", -1, "text " + std::to_string(i), labels[size_t(i)], core::Split::Test});
  const std::vector<float> probs{0.8f, 0.1f, 0.1f, 0.9f, 0.05f, 0.05f, 0.1f, 0.2f, 0.7f,
                                 0.2f, 0.3f, 0.5f, 0.1f, 0.1f,  0.8f,  0.3f, 0.6f, 0.1f};
  return {core::computeMetrics(ds->classNames, probs, labels, {0, 1, 2, 3, 4, 5}, 2), ds};
}

TEST(EvaluateController, CellSelectionAndMistakesFilterTheGallery) {
  ProjectController project;
  EvaluateController c(&project);
  auto [result, ds] = sixSamples();
  c.setEvaluation(result, ds, "run-1");
  c.selectCell(1, 2);
  ASSERT_EQ(c.gallery().size(), 2);
  EXPECT_EQ(c.gallery()[0].sample, 2u);  // the more confident one first
  EXPECT_EQ(c.gallery()[1].sample, 3u);
  EXPECT_EQ(c.gallery()[0].predictedLabel, "fish");
  EXPECT_EQ(c.gallery()[0].text, "text 2");
  c.selectCell(2, 0);
  EXPECT_TRUE(c.gallery().isEmpty());
  c.showMistakes();
  ASSERT_EQ(c.gallery().size(), 3);
  // Highest loss first: sample 2 (p_true 0.2), sample 3 (0.3), sample 5 (0.3).
  EXPECT_EQ(c.gallery()[0].sample, 2u);
  // Relabelling from the gallery is a project edit.
  c.relabel(3, "fish");
  ASSERT_EQ(project.project().labelEdits.size(), 1u);
  EXPECT_EQ(project.project().labelEdits[0].label, "fish");
}

// An Evaluate page on screen with its controller.
struct ShownPage {
  ProjectController project;
  EvaluateController c{&project};
  EvaluatePage page{&c};
  explicit ShownPage(QSize size) {
    page.resize(size);
    page.show();
  }
};

TEST(EvaluatePage, ClickingAConfusionCellOpensExactlyThoseSamples) {
  ShownPage shown(QSize(900, 700));
  EvaluateController& c = shown.c;
  EvaluatePage& page = shown.page;
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&page));
  auto [result, ds] = sixSamples();
  c.setEvaluation(result, ds, "run-1");
  EXPECT_EQ(page.classTable()->rowCount(), 3);
  QSignalSpy gallery(&c, &EvaluateController::galleryChanged);
  QTest::mouseClick(page.matrixPlot(), Qt::LeftButton, {}, page.cellCentre(1, 2));
  ASSERT_EQ(gallery.count(), 1);
  ASSERT_EQ(page.galleryView()->count(), 2);
  EXPECT_TRUE(page.galleryView()->item(0)->text().startsWith("dogs \u2192 fish"));
  QTest::mouseClick(page.matrixPlot(), Qt::LeftButton, {}, page.cellCentre(0, 0));
  EXPECT_EQ(page.galleryView()->count(), 2);  // two cats predicted as cats
}

// Found by a new user: "Ankle boot", the last of ten class names under the confusion matrix,
// was not drawn (QCustomPlot leaves out a tick label that would cross the widget's edge).
TEST(EvaluatePage, TheLastRotatedClassNameFitsInsideThePlot) {
  auto ds = std::make_shared<core::Dataset>();
  ds->modality = core::Modality::Text;
  ds->classNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  std::vector<int32_t> labels;
  std::vector<float> probs;
  std::vector<size_t> samples;
  for (int i = 0; i < 10; ++i) {
    ds->samples.push_back({"", -1, "t", i, core::Split::Test});
    labels.push_back(i);
    samples.push_back(size_t(i));
    for (int k = 0; k < 10; ++k) probs.push_back(k == i ? 0.91f : 0.01f);
  }
  ShownPage shown(QSize(760, 600));
  EvaluatePage& page = shown.page;
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&page));
  shown.c.setEvaluation(core::computeMetrics(ds->classNames, probs, labels, samples, 2), ds,
                        "run-1");
  QCustomPlot* plot = page.matrixPlot();
  plot->replot();
  const QFontMetrics metrics(plot->xAxis->tickLabelFont());
  const double reach =
      (metrics.horizontalAdvance("Ankle boot") + metrics.height()) / std::sqrt(2.0);
  EXPECT_LE(plot->xAxis->coordToPixel(9) + reach, plot->width())
      << "the rotated label of the last column ends inside the widget";
}

}  // namespace
}  // namespace tlab::ui
