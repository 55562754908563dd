#include <gtest/gtest.h>

#include <algorithm>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/dataset/ImageVerifier.h"
#include "core/dataset/Readers.h"

namespace tlab::core {
namespace {
using test::patternRgb;
using test::TempDir;
using test::writeImage;

TEST(ImageFolderReader, ReadsOneFolderPerClassInSortedOrder) {
  TempDir dir;
  writeImage(dir / "dog/b.png", patternRgb(8, 8));
  writeImage(dir / "dog/a.jpg", patternRgb(8, 8));
  writeImage(dir / "cat/x.png", patternRgb(8, 8));
  writeImage(dir / "cat/nested/y.png", patternRgb(8, 8));
  test::writeText(dir / ".hidden/z.png", "ignored");
  const Dataset ds = readImageFolder(dir.path());
  ASSERT_EQ(ds.classNames, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(ds.size(), 4u);
  EXPECT_EQ(ds.classCounts(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(ds.samples[2].path, (dir / "dog/a.jpg").string());  // sorted within class
  EXPECT_FALSE(ds.hasPredefinedSplit());
  EXPECT_TRUE(ds.skipped.empty());
  EXPECT_TRUE(ds.structuralErrors().empty());
}

TEST(ImageFolderReader, HonoursTrainValTestFolders) {
  TempDir dir;
  writeImage(dir / "train/a/1.png", patternRgb(8, 8));
  writeImage(dir / "train/a/2.png", patternRgb(8, 8));
  writeImage(dir / "train/b/1.png", patternRgb(8, 8));
  writeImage(dir / "val/b/2.png", patternRgb(8, 8));
  writeImage(dir / "test/a/3.png", patternRgb(8, 8));
  const Dataset ds = readImageFolder(dir.path());
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ds.splitCount(Split::Train), 3);
  EXPECT_EQ(ds.splitCount(Split::Val), 1);
  EXPECT_EQ(ds.splitCount(Split::Test), 1);
  EXPECT_EQ(ds.classCounts(Split::Train), (std::vector<int64_t>{2, 1}));
}

TEST(ImageFolderReader, BrokenFilesAreListedAndNothingElse) {
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    writeImage(dir / ("good/" + std::to_string(i) + ".jpg"), patternRgb(16, 16, i));
    writeImage(dir / ("fine/" + std::to_string(i) + ".png"), patternRgb(16, 16, i));
  }
  const auto jpeg = test::encode(".jpg", patternRgb(16, 16));
  test::writeBytes(dir / "good/zero.jpg", {});
  test::writeBytes(dir / "good/truncated.jpg", {jpeg.begin(), jpeg.begin() + 100});
  test::writeText(dir / "fine/text.png", "not an image at all");
  test::writeBytes(dir / "fine/bomb.png", test::pngHeaderOnly(100000, 100000));
  test::writeText(dir / "fine/notes.txt", "a stray file");
  Dataset ds = readImageFolder(dir.path());
  EXPECT_EQ(ds.size(), 44u);
  ASSERT_EQ(ds.skipped.size(), 1u);  // notes.txt: not an image extension
  EXPECT_EQ(verifyImages(ds), 4u);
  EXPECT_EQ(ds.size(), 40u);
  std::vector<std::string> skipped;
  for (const auto& s : ds.skipped)
    skipped.push_back(std::filesystem::path(s.path).filename().string());
  std::sort(skipped.begin(), skipped.end());
  EXPECT_EQ(skipped, (std::vector<std::string>{"bomb.png", "notes.txt", "text.png", "truncated.jpg",
                                               "zero.jpg"}));
  for (const auto& s : ds.skipped) EXPECT_FALSE(s.reason.empty());
}

TEST(ImageFolderReader, EmptyAndSingleClassAreClearErrors) {
  TempDir dir;
  writeImage(dir / "only/a.png", patternRgb(8, 8));
  std::filesystem::create_directories(dir / "empty");
  const Dataset ds = readImageFolder(dir.path());
  const auto errors = ds.structuralErrors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("'empty'"), std::string::npos) << errors[0];
  EXPECT_THROW(ds.validate(), InvalidArgument);

  TempDir single;
  writeImage(single / "only/a.png", patternRgb(8, 8));
  const auto one = readImageFolder(single.path()).structuralErrors();
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NE(one[0].find("at least 2"), std::string::npos) << one[0];

  TempDir none;
  const auto nothing = readImageFolder(none.path()).structuralErrors();
  ASSERT_EQ(nothing.size(), 1u);
  EXPECT_NE(nothing[0].find("no usable samples"), std::string::npos);
}

TEST(ImageFolderReader, MissingFolderThrowsNamingIt) {
  try {
    readImageFolder("/no/such/folder");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/folder"), std::string::npos);
  }
}

TEST(ImageFolderReader, VerifyDecodesInParallelWithProgress) {
  TempDir dir;
  for (int i = 0; i < 30; ++i)
    writeImage(dir / ("c" + std::to_string(i % 3) + "/" + std::to_string(i) + ".png"),
               patternRgb(8, 8));
  Dataset ds = readImageFolder(dir.path());
  std::atomic<size_t> last{0};
  VerifyOptions opts;
  opts.threads = 2;
  opts.progress = [&](size_t done, size_t total) {
    EXPECT_EQ(total, 30u);
    size_t prev = last.load();
    while (done > prev && !last.compare_exchange_weak(prev, done)) {
    }
  };
  EXPECT_EQ(verifyImages(ds, opts), 0u);
  EXPECT_EQ(last.load(), 30u);
}

TEST(ImageFolderReader, ACancelFlagStopsTheListing) {
  TempDir dir;
  for (int i = 0; i < 5; ++i)
    writeImage(dir / ("a/" + std::to_string(i) + ".png"), patternRgb(8, 8));
  writeImage(dir / "b/x.png", patternRgb(8, 8));
  std::atomic<bool> cancel{true};
  EXPECT_THROW(readImageFolder(dir.path(), &cancel), Cancelled);
  ReadOptions o;
  o.cancel = &cancel;
  EXPECT_THROW(openDataset(dir.path(), o), Cancelled);
  cancel = false;
  EXPECT_EQ(openDataset(dir.path(), o).size(), 6u);
}
}  // namespace
}  // namespace tlab::core
