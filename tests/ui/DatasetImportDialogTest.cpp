#include "ui/widgets/DatasetImportDialog.h"

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>

#include "core/TestImages.h"
#include "core/dataset/Hdf5Dataset.h"

namespace tlab::ui {
namespace {

// Waits for the preview of the dialog's current choices; returns its verdict.
bool previewOf(DatasetImportDialog& d) {
  QSignalSpy ready(&d, &DatasetImportDialog::previewReady);
  EXPECT_TRUE(ready.wait(20000));
  return !ready.isEmpty() && ready.takeLast().at(0).toBool();
}

int count(const DatasetImportDialog& d, int row, int column) {
  return d.classTable()->item(row, column)->text().toInt();
}

std::vector<uint8_t> idx(std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t v : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

core::DatasetSettings at(const std::filesystem::path& p) {
  core::DatasetSettings s;
  s.path = p.string();
  return s;
}

TEST(DatasetImportDialog, PreviewShowsTheSplitTrainingWillUseBeforeCommitting) {
  test::TempDir dir;
  for (const char* split : {"train", "test"})
    for (const char* c : {"ant", "bee"})
      for (int i = 0; i < (split[1] == 'r' ? 10 : 2); ++i)
        test::writeImage(dir / (std::string(split) + "/" + c + "/" + std::to_string(i) + ".png"),
                         test::patternRgb(16, 16, uint32_t(i)));
  core::DatasetSettings s = at(dir.path());
  s.valFraction = 0.2;
  DatasetImportDialog d(s);
  EXPECT_FALSE(d.okButton()->isEnabled());  // nothing to commit before the preview
  ASSERT_TRUE(previewOf(d));
  EXPECT_TRUE(d.summaryText().contains(QStringLiteral("folder"))) << d.summaryText().toStdString();
  EXPECT_TRUE(d.summaryText().contains(QStringLiteral("24 samples in 2 classes")));
  ASSERT_EQ(d.classTable()->rowCount(), 2);
  // Own split kept: 2 test images per class; validation carved from train (0.2 x 10).
  EXPECT_EQ(d.classTable()->item(0, 0)->text(), QStringLiteral("ant"));
  EXPECT_EQ(count(d, 0, 1), 8);
  EXPECT_EQ(count(d, 0, 2), 2);
  EXPECT_EQ(count(d, 0, 3), 2);
  EXPECT_EQ(d.preview().thumbnails.size(), 8u);  // the strip: decoded, at thumbnail size
  EXPECT_FALSE(d.preview().thumbnails[0].isNull());
  EXPECT_TRUE(d.okButton()->isEnabled());

  // Re-split all 12 per class with val 0.25, test 0.1: round(3) val, round(1.2) test, 8 train.
  d.keepSplitBox()->setChecked(false);
  d.valBox()->setValue(0.25);
  ASSERT_TRUE(previewOf(d));
  EXPECT_EQ(count(d, 1, 1), 8);
  EXPECT_EQ(count(d, 1, 2), 3);
  EXPECT_EQ(count(d, 1, 3), 1);
  const core::DatasetSettings chosen = d.settings();
  EXPECT_FALSE(chosen.keepPredefinedSplit);
  EXPECT_DOUBLE_EQ(chosen.valFraction, 0.25);
  EXPECT_EQ(chosen.format, "auto");
  EXPECT_EQ(chosen.path, dir.path().string());
}

TEST(DatasetImportDialog, PreviewsEveryFormat) {
  test::TempDir dir;
  // CSV manifest of images.
  test::writeImage(dir / "csv/a.png", test::patternRgb(8, 8, 1));
  test::writeImage(dir / "csv/b.png", test::patternRgb(8, 8, 2));
  test::writeImage(dir / "csv/c.png", test::patternRgb(8, 8, 3));
  test::writeText(dir / "csv/list.csv", "path,label\na.png,x\nb.png,y\nc.png,y\nmissing.png,x\n");
  // IDX pair (MNIST layout).
  std::vector<uint8_t> pixels(4 * 3 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 7);
  test::writeBytes(dir / "idx/train-images-idx3-ubyte", idx({4, 3, 3}, pixels));
  test::writeBytes(dir / "idx/train-labels-idx1-ubyte", idx({4}, {0, 1, 1, 1}));
  // HDF5.
  {
    core::Hdf5Writer w(dir / "set.h5", 6, 6, 1, {"left", "right"});
    for (int i = 0; i < 6; ++i)
      w.append(cv::Mat(6, 6, CV_8UC1, cv::Scalar(i * 40)), i % 2, core::Split::None);
    w.close();
  }
  // Texts.
  test::writeText(dir / "texts.csv",
                  "text,label\n\"Great match, two goals\",sport\nThe senate voted,politics\n"
                  "A late penalty,sport\n");

  struct Case {
    std::filesystem::path path;
    QString format;  // what detection reports
    int samples;
  };
  for (const Case& c : {Case{dir / "csv/list.csv", "csv", 3}, Case{dir / "idx", "idx", 4},
                        Case{dir / "set.h5", "hdf5", 6}, Case{dir / "texts.csv", "text", 3}}) {
    DatasetImportDialog d(at(c.path));
    ASSERT_TRUE(previewOf(d)) << c.path << ": " << d.summaryText().toStdString();
    EXPECT_TRUE(d.summaryText().startsWith(QStringLiteral("<b>%1</b>").arg(c.format)))
        << d.summaryText().toStdString();
    EXPECT_TRUE(d.summaryText().contains(QStringLiteral("%1 samples").arg(c.samples)))
        << d.summaryText().toStdString();
    EXPECT_EQ(d.classTable()->rowCount(), 2);
    EXPECT_TRUE(d.okButton()->isEnabled());
    if (c.format == QLatin1String("text")) {
      EXPECT_TRUE(d.preview().thumbnails.empty());
      EXPECT_TRUE(d.preview().texts.contains(QStringLiteral("The senate voted")));
    } else {
      EXPECT_FALSE(d.preview().thumbnails.empty());
    }
  }
  // The CSV's missing file is reported before committing.
  DatasetImportDialog csv(at(dir / "csv/list.csv"));
  ASSERT_TRUE(previewOf(csv));
  ASSERT_EQ(csv.preview().listing->skipped.size(), 1u);
  EXPECT_EQ(csv.preview().listing->skipped[0].line, 5u);
  EXPECT_NE(csv.preview().listing->skipped[0].reason.find("missing.png"), std::string::npos);
}

TEST(DatasetImportDialog, UnreadableChoicesExplainAndCannotBeCommitted) {
  test::TempDir dir;
  test::writeImage(dir / "imgs/a/0.png", test::patternRgb(8, 8));
  DatasetImportDialog d(at(dir / "nowhere"));
  EXPECT_FALSE(previewOf(d));
  EXPECT_TRUE(d.summaryText().contains(QStringLiteral("nowhere"))) << d.summaryText().toStdString();
  EXPECT_FALSE(d.okButton()->isEnabled());

  // A folder read as HDF5: the error names the file; choosing the right format recovers.
  d.setPath(QString::fromStdString((dir / "imgs").string()));
  d.formatBox()->setCurrentIndex(d.formatBox()->findData(QStringLiteral("hdf5")));
  EXPECT_FALSE(previewOf(d));
  EXPECT_TRUE(d.summaryText().contains(QStringLiteral("imgs"))) << d.summaryText().toStdString();
  EXPECT_FALSE(d.okButton()->isEnabled());
  d.formatBox()->setCurrentIndex(d.formatBox()->findData(QStringLiteral("folder")));
  EXPECT_TRUE(previewOf(d));
  EXPECT_TRUE(d.okButton()->isEnabled());
  EXPECT_EQ(d.settings().format, "folder");
}

}  // namespace
}  // namespace tlab::ui
