#include <gtest/gtest.h>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/dataset/Readers.h"

namespace tlab::core {
namespace {
using test::TempDir;

TEST(CsvManifestReader, ReadsPathsRelativeToTheManifestWithSplits) {
  TempDir dir;
  test::writeImage(dir / "img/a.png", test::patternRgb(8, 8));
  test::writeImage(dir / "img/b.png", test::patternRgb(8, 8));
  test::writeImage(dir / "img/c c.png", test::patternRgb(8, 8));
  test::writeText(dir / "m.csv",
                  "path,label,split\n"
                  "img/a.png,dog,train\n"
                  "\"img/c c.png\",\"cat, big\",test\n"
                  "img/b.png,dog\n");
  const Dataset ds = readCsvManifest(dir / "m.csv", PathPolicy::StayInsideRoot);
  EXPECT_TRUE(ds.skipped.empty());
  ASSERT_EQ(ds.classNames, (std::vector<std::string>{"cat, big", "dog"}));
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.samples[0].split, Split::Train);
  EXPECT_EQ(ds.samples[1].label, 0);
  EXPECT_EQ(ds.samples[1].split, Split::Test);
  EXPECT_EQ(ds.samples[2].split, Split::None);
}

TEST(CsvManifestReader, TsvWithoutHeader) {
  TempDir dir;
  test::writeImage(dir / "a.png", test::patternRgb(8, 8));
  test::writeText(dir / "m.tsv", "a.png\t3\na.png\t10\n");
  const Dataset ds = readCsvManifest(dir / "m.tsv", PathPolicy::StayInsideRoot);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"3", "10"}));  // numeric order
  EXPECT_EQ(ds.size(), 2u);
}

TEST(CsvManifestReader, MalformedRowsAreReportedWithLineNumbers) {
  TempDir dir;
  test::writeImage(dir / "a.png", test::patternRgb(8, 8));
  test::writeText(dir / "m.csv",
                  "path,label\n"       // 1
                  "a.png,x\n"          // 2 ok
                  "a.png\n"            // 3 too few fields
                  "missing.png,x\n"    // 4 not found
                  ",x\n"               // 5 empty path
                  "a.png,x,holdout\n"  // 6 bad split
                  "a.png,,\n"          // 7 empty label
                  "a.png,y,train,9\n"  // 8 too many fields
                  "a.png,y\n");        // 9 ok
  const Dataset ds = readCsvManifest(dir / "m.csv", PathPolicy::StayInsideRoot);
  EXPECT_EQ(ds.size(), 2u);
  ASSERT_EQ(ds.skipped.size(), 6u);
  const size_t lines[] = {3, 4, 5, 6, 7, 8};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(ds.skipped[i].line, lines[i]) << ds.skipped[i].reason;
    EXPECT_EQ(ds.skipped[i].path, (dir / "m.csv").string());
  }
  EXPECT_NE(ds.skipped[1].reason.find("not found"), std::string::npos);
  EXPECT_NE(ds.skipped[3].reason.find("holdout"), std::string::npos);
}

TEST(CsvManifestReader, UnterminatedQuoteIsReported) {
  TempDir dir;
  test::writeImage(dir / "a.png", test::patternRgb(8, 8));
  test::writeText(dir / "m.csv", "a.png,x\n\"a.png,y\nb,c\n");
  const Dataset ds = readCsvManifest(dir / "m.csv", PathPolicy::StayInsideRoot);
  EXPECT_EQ(ds.size(), 1u);
  ASSERT_EQ(ds.skipped.size(), 1u);
  EXPECT_EQ(ds.skipped[0].line, 2u);
}

TEST(CsvManifestReader, PathsEscapingTheRootAreRefusedUnlessAllowed) {
  TempDir outer;
  test::writeImage(outer / "secret.png", test::patternRgb(8, 8));
  test::writeImage(outer / "data/in.png", test::patternRgb(8, 8));
  test::writeText(outer / "data/m.csv",
                  "in.png,a\n../secret.png,b\n" + (outer / "secret.png").string() + ",b\n");
  const Dataset strict = readCsvManifest(outer / "data/m.csv", PathPolicy::StayInsideRoot);
  EXPECT_EQ(strict.size(), 1u);
  ASSERT_EQ(strict.skipped.size(), 2u);
  EXPECT_NE(strict.skipped[0].reason.find("escapes"), std::string::npos);
  const Dataset lax = readCsvManifest(outer / "data/m.csv", PathPolicy::AllowOutsideRoot);
  EXPECT_EQ(lax.size(), 3u);
}

TEST(CsvManifestReader, NonUtf8ManifestIsAClearError) {
  TempDir dir;
  test::writeText(dir / "m.csv", "a.png,caf\xe9\n");
  EXPECT_THROW(readCsvManifest(dir / "m.csv", PathPolicy::StayInsideRoot), FormatError);
}

TEST(CsvManifestReader, ACancelFlagStopsAtTheNextRow) {
  TempDir dir;
  test::writeImage(dir / "img/a.png", test::patternRgb(8, 8));
  test::writeImage(dir / "img/b.png", test::patternRgb(8, 8));
  test::writeText(dir / "m.csv", "img/a.png,cat\nimg/b.png,dog\n");
  std::atomic<bool> cancel{true};
  EXPECT_THROW(readCsvManifest(dir / "m.csv", PathPolicy::StayInsideRoot, &cancel), Cancelled);
}
}  // namespace
}  // namespace tlab::core
