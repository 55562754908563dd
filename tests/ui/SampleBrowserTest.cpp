#include "ui/widgets/SampleBrowser.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLineEdit>
#include <QListView>
#include <QSignalSpy>
#include <QTest>

#include "core/TestImages.h"
#include "core/dataset/Readers.h"
#include "core/project/Project.h"
#include "ui/controllers/ProjectController.h"
#include "ui/models/SampleModel.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
namespace {

std::shared_ptr<const core::Dataset> folderOf(const test::TempDir& dir, int perClass) {
  for (const char* c : {"ant", "bee", "cat"})
    for (int i = 0; i < perClass; ++i)
      test::writeImage(dir / (std::string(c) + "/" + std::to_string(i) + ".png"),
                       test::patternRgb(24, 24, uint32_t(i)));
  return std::make_shared<const core::Dataset>(core::openDataset(dir.path()));
}

// A browser on screen at a fixed size, as the thumbnail tests need.
struct ShownBrowser {
  ProjectController project;
  SampleBrowser browser{&project};
  ShownBrowser() {
    browser.resize(500, 360);
    browser.show();
  }
};

TEST(SampleBrowser, FiltersAndDecodesOnlyTheThumbnailsOnScreen) {
  test::TempDir dir;
  const auto ds = folderOf(dir, 400);  // 1,200 images
  ShownBrowser shown;
  SampleBrowser& browser = shown.browser;
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&browser));
  QSignalSpy ready(browser.model(), &SampleModel::thumbnailReady);
  browser.setDataset(ds);
  EXPECT_EQ(browser.model()->rowCount(), 1200);
  ASSERT_TRUE(ready.wait(10000));
  // Decoding stops once every thumbnail on screen has arrived: count once 300 ms bring no new
  // decode.
  int last = -1;
  while (last != browser.model()->decodesStarted()) {
    last = browser.model()->decodesStarted();
    ready.wait(300);
  }
  // Only what the view shows (a few rows of the grid) is decoded, not 1,200 images.
  EXPECT_GT(browser.model()->decodesStarted(), 0);
  EXPECT_LT(browser.model()->decodesStarted(), 100);
  const QVariant thumb = browser.model()->index(0, SampleModel::kName).data(Qt::DecorationRole);
  ASSERT_TRUE(thumb.canConvert<QImage>());
  EXPECT_EQ(thumb.value<QImage>().width(), SampleModel::kThumbnailSize);

  browser.classFilter()->setCurrentIndex(2);  // "bee"
  EXPECT_EQ(browser.model()->rowCount(), 400);
  browser.search()->setText("bee/12");  // 12.png, 120..129.png
  EXPECT_EQ(browser.model()->rowCount(), 11);
  browser.search()->clear();
  browser.classFilter()->setCurrentIndex(0);
  EXPECT_EQ(browser.model()->rowCount(), 1200);
}

TEST(Thumbnail, HiDpiThumbnailsHoldMoreDevicePixelsAtTheSameLogicalSize) {
  test::TempDir dir;
  test::writeImage(dir / "a/wide.png", test::patternRgb(400, 200));
  test::writeImage(dir / "b/tiny.png", test::patternRgb(28, 28));
  const core::Dataset ds = core::openDataset(dir.path());
  const QImage normal = sampleImage(ds, 0, 96);
  EXPECT_EQ(normal.size(), QSize(96, 48));
  EXPECT_DOUBLE_EQ(normal.devicePixelRatio(), 1.0);
  const QImage sharp = sampleImage(ds, 0, 96, 2.0);
  EXPECT_EQ(sharp.size(), QSize(192, 96));
  EXPECT_DOUBLE_EQ(sharp.devicePixelRatio(), 2.0);
  EXPECT_EQ(sharp.deviceIndependentSize().toSize(), QSize(96, 48));
  // 28 px enlarged by nearest neighbour: each source pixel becomes an exact 7x7 block at 2x.
  const QImage tiny = sampleImage(ds, 1, 98, 2.0);
  ASSERT_EQ(tiny.size(), QSize(196, 196));
  EXPECT_EQ(tiny.pixel(0, 0), tiny.pixel(6, 6));
}

TEST(SampleBrowser, ItemsKeepTheirThumbnailSizeWhenTheDatasetIsReplaced) {
  test::TempDir a, b;
  const auto first = folderOf(a, 30);
  const auto second = folderOf(b, 40);
  ShownBrowser shown;
  SampleBrowser& browser = shown.browser;
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&browser));
  QSignalSpy ready(browser.model(), &SampleModel::thumbnailReady);
  browser.setDataset(first);
  ASSERT_TRUE(ready.wait(10000));
  browser.setDataset(second);  // before any of its thumbnails is decoded
  ASSERT_TRUE(QTest::qWaitFor(
      [&] { return browser.grid()->visualRect(browser.model()->index(5, 0)).isValid(); }, 5000));
  for (int row : {0, 5}) {
    const QRect box = browser.grid()->visualRect(browser.model()->index(row, 0));
    EXPECT_GE(box.height(), SampleModel::kThumbnailSize) << "row " << row;
    EXPECT_GE(box.width(), SampleModel::kThumbnailSize) << "row " << row;
  }
}

TEST(SampleBrowser, RelabelAndExcludeShowAsProjectEdits) {
  test::TempDir dir;
  const auto ds = folderOf(dir, 3);
  ProjectController project;
  SampleBrowser browser(&project);
  browser.setDataset(ds);
  project.setLabel(core::sampleKey(*ds, 0), "cat");
  project.setLabel(core::sampleKey(*ds, 1), "");
  const auto label = [&](int row) {
    return browser.model()->index(row, SampleModel::kLabel).data().toString();
  };
  EXPECT_EQ(label(0), "cat (was ant)");
  EXPECT_EQ(label(1), "ant (excluded)");
  EXPECT_EQ(label(2), "ant");
}

TEST(SampleModel, PassesQtsModelTesterThroughLoadsFiltersAndRelabels) {
  test::TempDir dir;
  const auto ds = folderOf(dir, 5);
  SampleModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.setDataset(ds);
  model.setFilter(1, std::nullopt, QString());
  model.setFilter(-1, core::Split::None, QStringLiteral("3"));
  model.setLabelOverrides({{0, QStringLiteral("bee")}, {1, QString()}});
  model.setFilter(-1, std::nullopt, QString());
  QSignalSpy ready(&model, &SampleModel::thumbnailReady);
  (void)model.index(0, SampleModel::kName).data(Qt::DecorationRole);  // one decode, delivered
  ASSERT_TRUE(ready.wait(10000));
  model.setDataset(nullptr);
  EXPECT_EQ(model.rowCount(), 0);
}

}  // namespace
}  // namespace tlab::ui
