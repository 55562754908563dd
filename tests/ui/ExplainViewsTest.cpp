// The explanation views: heat-map overlays in the Evaluate gallery (on/off, opacity, class
// switching, the detail view), word highlights for texts, and the embedding map's hover and
// lasso-to-gallery.
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include <gtest/gtest.h>

#include <qcustomplot.h>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QSlider>
#include <QTabWidget>
#include <QTest>

#include "core/TestImages.h"
#include "core/explain/PointingData.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/Metrics.h"
#include "core/train/ModelInput.h"
#include "ui/controllers/EvaluateController.h"
#include "ui/controllers/ExplainController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/pages/EvaluatePage.h"
#include "ui/widgets/EmbeddingMap.h"

namespace tlab::ui {
namespace {

class MemoryImages : public core::ImageStore {
 public:
  std::vector<cv::Mat> images;
  cv::Mat image(int64_t index) const override { return images.at(size_t(index)); }
};

bool waitFor(const std::function<bool()>& done, int ms = 20000) {
  QElapsedTimer t;
  t.start();
  while (!done()) {
    if (t.elapsed() > ms) return false;
    QTest::qWait(20);
  }
  return true;
}

// 24 shape images (test split) and a small CNN evaluated on them.
struct ExplainSetup {
  ProjectController project;
  EvaluateController evaluate{&project};
  ExplainController explain;
  std::shared_ptr<core::Dataset> dataset = std::make_shared<core::Dataset>();
  core::ImageClassifier net;
  core::ModelBundleInfo info;
  std::unique_ptr<EvaluatePage> page;

  ExplainSetup() {
    auto store = std::make_shared<MemoryImages>();
    core::Rng rng(3);
    dataset->format = "memory";
    dataset->classNames = test::shapeNames();
    for (int i = 0; i < 24; ++i) {
      auto s = test::makeShapeImage(rng);
      store->images.push_back(s.rgb);
      dataset->samples.push_back({"", i, "", s.label, core::Split::Test});
    }
    dataset->store = store;
    torch::manual_seed(4);
    net = core::createArchitecture("small_cnn", 3, 3);
    net->eval();
    info.architecture = "small_cnn";
    info.backbone = "small_cnn";
    info.head.numClasses = 3;
    info.classNames = dataset->classNames;
    info.preprocess.inputSize = 48;
    info.preprocess.cropFraction = 1.0;
    std::vector<float> probs;
    std::vector<int32_t> labels;
    std::vector<size_t> samples;
    {
      torch::NoGradGuard g;
      for (size_t i = 0; i < dataset->size(); ++i) {
        const auto p =
            torch::softmax(net->forward(core::imageInput(store->images[i], info.preprocess)), 1)[0];
        for (int c = 0; c < 3; ++c) probs.push_back(p[c].item<float>());
        labels.push_back(dataset->samples[i].label);
        samples.push_back(i);
      }
    }
    evaluate.setEvaluation(core::computeMetrics(dataset->classNames, probs, labels, samples, 2),
                           dataset, "run-1 · test split");
    core::TrainConfig config;
    config.backbone = "small_cnn";
    explain.setModel(net, info, config, "run-1", dataset);
    page = std::make_unique<EvaluatePage>(&evaluate, &explain);
    page->resize(1200, 800);
    page->show();
  }
  void showAll() {
    QVector<GalleryItem> items;
    for (size_t i = 0; i < dataset->size(); ++i) {
      GalleryItem g;
      g.sample = i;
      g.trueClass = dataset->samples[i].label;
      g.trueLabel = QString::fromStdString(dataset->classNames[size_t(g.trueClass)]);
      items.push_back(g);
    }
    evaluate.showItems(items, "all");
  }
};

}  // namespace

TEST(ExplainViews, OverlayTogglesOnAndOffInTheGallery) {
  ExplainSetup s;
  EXPECT_EQ(s.explain.layer(), "block3");
  EXPECT_TRUE(s.page->overlayToggle()->isEnabled());
  s.showAll();
  ASSERT_TRUE(waitFor([&] { return !s.page->galleryIcon(0).isNull(); }));
  const QImage plain = s.page->galleryIcon(0);
  s.page->overlayToggle()->setChecked(true);
  ASSERT_TRUE(waitFor([&] { return s.explain.map(0) && s.page->galleryIcon(0) != plain; }));
  EXPECT_TRUE(s.explain.map(0)->error.isEmpty()) << s.explain.map(0)->error.toStdString();
  const QImage half = s.page->galleryIcon(0);
  s.page->opacitySlider()->setValue(90);  // stronger heat: a different picture, no recomputation
  EXPECT_NE(s.page->galleryIcon(0), half);
  s.page->overlayToggle()->setChecked(false);
  EXPECT_EQ(s.page->galleryIcon(0), plain);
}

TEST(ExplainViews, SwitchingTheClassExplainsThatClass) {
  ExplainSetup s;
  s.showAll();
  s.page->overlayToggle()->setChecked(true);
  ASSERT_TRUE(waitFor([&] { return s.explain.map(5) != nullptr; }));
  EXPECT_EQ(s.explain.map(5)->classIndex, s.explain.map(5)->predicted);
  QComboBox* cls = s.page->explainClassBox();
  ASSERT_EQ(cls->count(), 4);  // predicted + 3 classes
  cls->setCurrentIndex(cls->findText("ring"));
  EXPECT_EQ(s.explain.targetClass(), 2);
  ASSERT_TRUE(waitFor([&] { return s.explain.map(5) != nullptr; }));
  EXPECT_EQ(s.explain.map(5)->classIndex, 2);
  s.page->galleryView()->setCurrentRow(5);
  ASSERT_TRUE(waitFor([&] { return s.page->detailText()->text().contains("ring"); }));
  EXPECT_TRUE(s.page->detailText()->text().contains("block3"));
  // Another layer is another map (and another cache entry).
  s.page->explainLayerBox()->setCurrentText("block2");
  EXPECT_EQ(s.explain.layer(), "block2");
  ASSERT_TRUE(waitFor([&] { return s.explain.map(5) != nullptr; }));
  EXPECT_EQ(s.explain.map(5)->classIndex, 2);
}

TEST(ExplainViews, LassoOnTheEmbeddingMapOpensThoseSamplesInTheGallery) {
  ExplainSetup s;
  EmbeddingMapView* map = s.page->embeddingMap();
  ASSERT_NE(map, nullptr);
  s.page->lowerTabs()->setCurrentWidget(map);
  map->methodBox()->setCurrentIndex(0);  // PCA
  QSignalSpy done(map, &EmbeddingMapView::finished);
  map->compute();
  ASSERT_TRUE(waitFor([&] { return done.count() == 1; }, 60000));
  ASSERT_EQ(map->result().samples.size(), 24u);
  ASSERT_EQ(map->result().after.size(), 24);
  QCustomPlot* plot = map->plot(1);
  // A lasso around the left half of the fine-tuned map's points.
  double minX = 1e9, maxX = -1e9, minY = 1e9, maxY = -1e9;
  for (int i = 0; i < 24; ++i) {
    const QPointF p = map->pixelOf(1, i);
    minX = std::min(minX, p.x()), maxX = std::max(maxX, p.x());
    minY = std::min(minY, p.y()), maxY = std::max(maxY, p.y());
  }
  const double cut = (minX + maxX) / 2;
  int expected = 0;
  for (int i = 0; i < 24; ++i) expected += map->pixelOf(1, i).x() < cut;
  ASSERT_GT(expected, 0);
  const QPoint corners[] = {QPoint(int(minX) - 4, int(minY) - 4), QPoint(int(cut), int(minY) - 4),
                            QPoint(int(cut), int(maxY) + 4), QPoint(int(minX) - 4, int(maxY) + 4)};
  QTest::mousePress(plot, Qt::LeftButton, Qt::NoModifier, corners[0]);
  for (int k = 1; k < 4; ++k) {
    QMouseEvent move(QEvent::MouseMove, QPointF(corners[k]), plot->mapToGlobal(QPointF(corners[k])),
                     Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(plot, &move);
  }
  QTest::mouseRelease(plot, Qt::LeftButton, Qt::NoModifier, corners[0]);
  ASSERT_EQ(s.evaluate.gallery().size(), expected);
  EXPECT_TRUE(s.evaluate.galleryTitle().contains("fine-tuned"));
  EXPECT_EQ(s.page->lowerTabs()->currentIndex(), 0);  // back on the gallery
  for (const auto& g : s.evaluate.gallery()) EXPECT_LT(g.sample, 24u);
  // Hovering a point shows that sample.
  s.page->lowerTabs()->setCurrentWidget(map);
  const QPoint at = map->pixelOf(1, 3).toPoint();
  QMouseEvent hover(QEvent::MouseMove, QPointF(at), plot->mapToGlobal(QPointF(at)), Qt::NoButton,
                    Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(plot, &hover);
  EXPECT_TRUE(map->hoverLabel()->text().contains("sample") ||
              map->hoverLabel()->toolTip().contains("sample"));
}

TEST(ExplainViews, EmbeddingMapCancelLeavesThePreviousMap) {
  ExplainSetup s;
  EmbeddingMapView* map = s.page->embeddingMap();
  map->methodBox()->setCurrentIndex(1);  // UMAP
  map->compute();
  EXPECT_TRUE(map->isComputing());
  map->cancel();
  EXPECT_FALSE(map->isComputing());
  EXPECT_TRUE(map->result().samples.empty());
}
}  // namespace tlab::ui

namespace tlab::ui {

TEST(ExplainViews, TextGalleryHighlightsTheWords) {
  test::TempDir dir;
  test::writeText(dir / "vocab.txt", test::keywordVocab());
  auto dataset = std::make_shared<core::Dataset>();
  dataset->modality = core::Modality::Text;
  dataset->classNames = {"positive", "negative", "neutral", "none"};
  core::Rng rng(1);
  for (int i = 0; i < 6; ++i) {
    const auto t = test::makeKeywordText(rng);
    dataset->samples.push_back({"", -1, t.text, t.label, core::Split::Test});
  }
  torch::manual_seed(2);
  auto net = core::createArchitecture("bert_l2_h32_a4", 4);
  net->eval();
  core::ModelBundleInfo info;
  info.architecture = "bert_l2_h32_a4";
  info.head.numClasses = 4;
  info.classNames = dataset->classNames;
  info.preprocess.inputSize = 16;
  info.preprocess.tokenizer = core::WordPieceTokenizer::load(dir / "vocab.txt");
  std::vector<float> probs;
  std::vector<int32_t> labels;
  std::vector<size_t> samples;
  for (size_t i = 0; i < dataset->size(); ++i) {
    for (int c = 0; c < 4; ++c) probs.push_back(0.25f);
    labels.push_back(dataset->samples[i].label);
    samples.push_back(i);
  }
  ProjectController project;
  EvaluateController evaluate(&project);
  evaluate.setEvaluation(core::computeMetrics(dataset->classNames, probs, labels, samples, 2),
                         dataset, "text");
  ExplainController explain;
  explain.setModel(net, info, core::TrainConfig{}, "run-t", dataset);
  EXPECT_TRUE(explain.isText());
  EXPECT_TRUE(explain.layers().isEmpty());
  EvaluatePage page(&evaluate, &explain);
  page.resize(1000, 700);
  page.show();
  EXPECT_EQ(page.overlayToggle()->text(), "Word attributions");
  QVector<GalleryItem> items;
  for (size_t i = 0; i < dataset->size(); ++i) {
    GalleryItem g;
    g.sample = i;
    g.trueClass = dataset->samples[i].label;
    g.text = QString::fromStdString(dataset->samples[i].text);
    items.push_back(g);
  }
  evaluate.showItems(items, "all");
  ASSERT_EQ(page.galleryView()->count(), 6);
  page.overlayToggle()->setChecked(true);
  const size_t sample = evaluate.gallery()[0].sample;
  ASSERT_TRUE(waitFor([&] { return explain.words(sample) != nullptr; }));
  auto* label = qobject_cast<QLabel*>(page.galleryView()->itemWidget(page.galleryView()->item(0)));
  ASSERT_NE(label, nullptr);
  EXPECT_TRUE(label->text().contains("background-color"));
  EXPECT_EQ(explain.words(sample)->words.size(),
            QString::fromStdString(dataset->samples[sample].text).split(' ').size());
  page.galleryView()->setCurrentRow(0);
  EXPECT_TRUE(page.detailText()->text().contains("background-color"));
  page.overlayToggle()->setChecked(false);
  EXPECT_EQ(page.galleryView()->itemWidget(page.galleryView()->item(0)), nullptr);
}

}  // namespace tlab::ui
