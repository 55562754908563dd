#include <gtest/gtest.h>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/dataset/Readers.h"

namespace tlab::core {
namespace {
using test::TempDir;

TEST(OpenDataset, DetectsEveryFormat) {
  TempDir dir;
  test::writeImage(dir / "folder/a/1.png", test::patternRgb(4, 4));
  test::writeImage(dir / "folder/b/1.png", test::patternRgb(4, 4));
  test::writeText(dir / "folder/manifest.csv", "a/1.png,a\nb/1.png,b\n");
  test::writeText(dir / "texts.csv", "text,label\nhi,a\n");
  test::writeText(dir / "texts.jsonl", "{\"text\":\"hi\",\"label\":\"a\"}\n");
  test::writeText(dir / "txtfolder/a/1.txt", "hello");
  {
    Hdf5Writer w(dir / "d.h5", 2, 2, 1, {"a", "b"});
    w.close();
  }
  EXPECT_EQ(detectDatasetFormat(dir / "folder"), DatasetFormat::Folder);
  EXPECT_EQ(detectDatasetFormat(dir / "folder/manifest.csv"), DatasetFormat::Csv);
  EXPECT_EQ(detectDatasetFormat(dir / "texts.csv"), DatasetFormat::Text);
  EXPECT_EQ(detectDatasetFormat(dir / "texts.jsonl"), DatasetFormat::Text);
  EXPECT_EQ(detectDatasetFormat(dir / "txtfolder"), DatasetFormat::Text);
  EXPECT_EQ(detectDatasetFormat(dir / "d.h5"), DatasetFormat::Hdf5);
  EXPECT_EQ(openDataset(dir.path() / "folder/").format, "folder");  // trailing slash
  EXPECT_THROW(detectDatasetFormat(dir / "missing"), IoError);
  test::writeText(dir / "weird.xyz", "?");
  EXPECT_THROW(detectDatasetFormat(dir / "weird.xyz"), FormatError);
  EXPECT_THROW(parseDatasetFormat("parquet"), InvalidArgument);
}

}  // namespace
}  // namespace tlab::core
