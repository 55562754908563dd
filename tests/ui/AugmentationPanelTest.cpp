#include "ui/widgets/AugmentationPanel.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QUndoStack>
#include <opencv2/core.hpp>

#include "core/TestImages.h"
#include "core/data/DataLoader.h"
#include "core/dataset/Readers.h"
#include "core/train/TrainPlan.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {
namespace {

std::shared_ptr<const core::Dataset> twoClassFolder(const test::TempDir& dir) {
  for (const char* c : {"cat", "dog"})
    for (int i = 0; i < 3; ++i)
      test::writeImage(dir / (std::string(c) + "/" + std::to_string(i) + ".png"),
                       test::patternRgb(40, 32, uint32_t(i + 7 * (c[0] == 'd'))));
  return std::make_shared<const core::Dataset>(core::openDataset(dir.path()));
}

cv::Mat asMat(const QImage& img) {
  const int type = img.format() == QImage::Format_Grayscale8 ? CV_8UC1 : CV_8UC3;
  return cv::Mat(img.height(), img.width(), type, const_cast<uchar*>(img.constBits()),
                 size_t(img.bytesPerLine()))
      .clone();
}

bool sameImage(const QImage& a, const QImage& b) {
  const cv::Mat x = asMat(a), y = asMat(b);
  return x.size() == y.size() && x.type() == y.type() && cv::norm(x, y, cv::NORM_INF) == 0;
}

TEST(AugmentationPreview, CellsAreExactlyWhatTheLoaderFeedsTheModel) {
  test::TempDir dir;
  const auto ds = twoClassFolder(dir);
  core::TrainConfig c;
  c.seed = 5;
  c.augmentation.rotationDegrees = 20;
  c.augmentation.brightness = 0.3;
  core::Preprocess p;
  p.inputSize = 32;
  PreviewRequest r;
  r.dataset = ds;
  r.samples = previewSamples(*ds, 4);
  ASSERT_EQ(r.samples, (std::vector<size_t>{0, 3, 1, 4}));  // classes take turns
  r.preprocess = p;
  r.augmentation = core::effectiveAugmentation(c, p.inputSize);
  r.seed = c.seed;
  r.epochs = {0, 1};
  const PreviewGrid g = renderPreview(r);
  ASSERT_TRUE(g.errors.isEmpty());

  core::LoaderOptions lo = core::trainLoaderOptions(c, p);
  lo.workers = 1;
  std::vector<size_t> all(ds->size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  core::DataLoader loader(ds, all, lo);
  const size_t per = size_t(3) * 32 * 32;
  int compared = 0;
  for (uint64_t epoch : {0, 1}) {
    loader.startEpoch(epoch);
    while (auto b = loader.next()) {
      for (size_t k = 0; k < b->indices.size(); ++k) {
        const auto row = std::find(r.samples.begin(), r.samples.end(), b->indices[k]);
        if (row == r.samples.end()) continue;
        std::vector<float> preview(per);
        core::normalizeToChw(asMat(g.cell(size_t(row - r.samples.begin()), 1 + epoch)), p,
                             preview.data());
        const std::vector<float> fed(b->images.begin() + long(k * per),
                                     b->images.begin() + long((k + 1) * per));
        EXPECT_EQ(preview, fed) << "sample " << b->indices[k] << " epoch " << epoch;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 8);
  // Augmentation really varies between epochs; the first column is the evaluation view.
  EXPECT_FALSE(sameImage(g.cell(0, 1), g.cell(0, 2)));
  core::Rng unused(0);
  core::Augmentation off;
  const cv::Mat eval = core::prepareImage(ds->loadImage(0).pixels, p, off, unused);
  EXPECT_EQ(cv::norm(asMat(g.cell(0, 0)), eval, cv::NORM_INF), 0);
}

TEST(AugmentationPanel, EditsAreUndoableProjectSettingsAndThePreviewFollows) {
  test::TempDir dir;
  twoClassFolder(dir);
  ProjectController project;
  DatasetController datasets;
  AugmentationPanel panel(&project, &datasets);
  QSignalSpy ready(panel.preview(), &AugmentationPreview::ready);
  datasets.open(QString::fromStdString(dir.path().string()));
  ASSERT_TRUE(ready.wait(20000));
  // The default backbone (small CNN) reads 28x28 grey images: that is what is shown.
  const PreviewGrid& g = panel.shownGrid();
  ASSERT_EQ(g.samples.size(), 4u);
  ASSERT_EQ(g.epochs, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(g.cell(0, 0).size(), QSize(28, 28));
  EXPECT_EQ(g.cell(0, 0).format(), QImage::Format_Grayscale8);
  EXPECT_TRUE(panel.statusText().contains(QStringLiteral("epochs 1\u20135")))
      << panel.statusText().toStdString();

  const int steps = project.undoStack()->count();
  panel.rotationBox()->setValue(30);
  EXPECT_DOUBLE_EQ(project.project().config.augmentation.rotationDegrees, 30);
  EXPECT_EQ(project.undoStack()->count(), steps + 1);
  ASSERT_TRUE(ready.wait(20000));
  project.undoStack()->undo();
  EXPECT_DOUBLE_EQ(project.project().config.augmentation.rotationDegrees, 0);
  EXPECT_DOUBLE_EQ(panel.rotationBox()->value(), 0);

  // Off: every column is the evaluation view.
  panel.enabledBox()->setChecked(false);
  EXPECT_FALSE(project.project().config.augmentation.enabled);
  ASSERT_TRUE(ready.wait(20000));
  for (size_t row = 0; row < 4; ++row)
    for (size_t col = 1; col <= 5; ++col)
      EXPECT_TRUE(sameImage(panel.shownGrid().cell(row, 0), panel.shownGrid().cell(row, col)));

  panel.enabledBox()->setChecked(true);
  ASSERT_TRUE(ready.wait(20000));
  EXPECT_TRUE(panel.inEffectText().contains(QStringLiteral("0.70\u20131.00")))
      << panel.inEffectText().toStdString();
  // A linear probe on cached features never sees augmented images: the panel says so.
  core::TrainConfig probe = project.project().config;
  probe.strategy = core::Strategy::LinearProbe;
  project.setConfig(probe, QStringLiteral("linear probe"));
  EXPECT_TRUE(panel.inEffectText().contains(QStringLiteral("No effect")));
  probe.featureCache = false;
  project.setConfig(probe, QStringLiteral("no feature cache"));
  EXPECT_FALSE(panel.inEffectText().contains(QStringLiteral("No effect")));
  ASSERT_TRUE(ready.wait(20000));
  const QImage before = panel.shownGrid().cell(1, 1);
  panel.redrawButton()->click();  // later epochs: new random draws
  ASSERT_TRUE(ready.wait(20000));
  EXPECT_EQ(panel.shownGrid().epochs.front(), 5u);
  EXPECT_FALSE(sameImage(before, panel.shownGrid().cell(1, 1)));
}

}  // namespace
}  // namespace tlab::ui
