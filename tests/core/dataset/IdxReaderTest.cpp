#include <gtest/gtest.h>
#include <zlib.h>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/dataset/Readers.h"

namespace tlab::core {
namespace {
using test::TempDir;

std::vector<uint8_t> idx(std::vector<uint32_t> dims, uint8_t fill, size_t dropBytes = 0) {
  std::vector<uint8_t> out = {0, 0, 0x08, uint8_t(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) out.push_back(uint8_t(fill + i % 7));
  out.resize(out.size() - dropBytes);
  return out;
}

std::vector<uint8_t> labels(std::vector<uint8_t> values) {
  std::vector<uint8_t> out = idx({uint32_t(values.size())}, 0);
  std::copy(values.begin(), values.end(), out.end() - values.size());
  return out;
}

void writeGz(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

TEST(IdxReader, ReadsTrainAndTestPairsPlainAndGzipped) {
  TempDir dir;
  test::writeBytes(dir / "train-images-idx3-ubyte", idx({3, 4, 5}, 10));
  test::writeBytes(dir / "train-labels-idx1-ubyte", labels({0, 1, 2}));
  writeGz(dir / "t10k-images-idx3-ubyte.gz", idx({2, 4, 5}, 50));
  writeGz(dir / "t10k-labels-idx1-ubyte.gz", labels({2, 2}));
  const Dataset ds = readIdx(dir.path());
  ASSERT_EQ(ds.size(), 5u);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(ds.splitCount(Split::Test), 2);
  EXPECT_EQ(ds.splitCount(Split::Train), 3);
  // Test files sort before train files; the first test image starts with fill value 50.
  const auto img = ds.loadImage(0);
  ASSERT_TRUE(img.ok()) << img.error;
  EXPECT_EQ(img.pixels.size(), cv::Size(5, 4));
  EXPECT_EQ(img.pixels.channels(), 1);
  EXPECT_EQ(img.pixels.at<uint8_t>(0, 0), 50);
  EXPECT_EQ(ds.samples[0].split, Split::Test);
  EXPECT_EQ(ds.loadImage(2).pixels.at<uint8_t>(0, 0), 10);
}

TEST(IdxReader, ClassesTxtNamesTheClasses) {
  TempDir dir;
  test::writeBytes(dir / "train-images-idx3-ubyte", idx({2, 2, 2}, 0));
  test::writeBytes(dir / "train-labels-idx1-ubyte", labels({0, 1}));
  test::writeText(dir / "classes.txt", "cat\r\ndog\n");
  EXPECT_EQ(readIdx(dir.path()).classNames, (std::vector<std::string>{"cat", "dog"}));
}

void expectFormatError(const TempDir& dir, const std::string& mention) {
  try {
    readIdx(dir.path());
    FAIL() << "expected an error mentioning " << mention;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
  }
}

TEST(IdxReader, MalformedFilesAreClearErrors) {
  {
    TempDir dir;  // declared size larger than the data
    test::writeBytes(dir / "train-images-idx3-ubyte", idx({3, 4, 5}, 0, 7));
    test::writeBytes(dir / "train-labels-idx1-ubyte", labels({0, 1, 1}));
    expectFormatError(dir, "declares 60 bytes of data but the file holds 53");
  }
  {
    TempDir dir;  // count mismatch
    test::writeBytes(dir / "train-images-idx3-ubyte", idx({3, 4, 5}, 0));
    test::writeBytes(dir / "train-labels-idx1-ubyte", labels({0, 1}));
    expectFormatError(dir, "2 labels for 3 images");
  }
  {
    TempDir dir;  // bad magic
    test::writeText(dir / "train-images-idx3-ubyte", "PK\x03\x04 not idx");
    test::writeBytes(dir / "train-labels-idx1-ubyte", labels({0}));
    expectFormatError(dir, "bad magic");
  }
  {
    TempDir dir;  // labels missing
    test::writeBytes(dir / "train-images-idx3-ubyte", idx({1, 2, 2}, 0));
    expectFormatError(dir, "train-labels-idx1-ubyte");
  }
  {
    TempDir dir;  // truncated gzip
    std::vector<uint8_t> big = idx({50, 28, 28}, 0);
    writeGz(dir / "train-images-idx3-ubyte.gz", big);
    auto gz = std::filesystem::file_size(dir / "train-images-idx3-ubyte.gz");
    std::filesystem::resize_file(dir / "train-images-idx3-ubyte.gz", gz / 2);
    test::writeBytes(dir / "train-labels-idx1-ubyte", labels(std::vector<uint8_t>(50, 0)));
    expectFormatError(dir, "train-images-idx3-ubyte.gz");
  }
  {
    TempDir dir;  // absurd declared dimensions
    std::vector<uint8_t> bomb = {0,    0,    8,    3,    0xFF, 0xFF, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    test::writeBytes(dir / "train-images-idx3-ubyte", bomb);
    test::writeBytes(dir / "train-labels-idx1-ubyte", labels({0}));
    expectFormatError(dir, "absurdly large");
  }
}

TEST(IdxReader, FashionMnistFromTheDebianPackage) {
  const std::filesystem::path fm = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(fm)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const Dataset ds = readIdx(fm);
  EXPECT_EQ(ds.splitCount(Split::Train), 60000);
  EXPECT_EQ(ds.splitCount(Split::Test), 10000);
  ASSERT_EQ(ds.numClasses(), 10u);
  EXPECT_EQ(ds.classNames[0], "T-shirt/top");
  EXPECT_EQ(ds.classNames[9], "Ankle boot");
  for (auto c : ds.classCounts(Split::Train)) EXPECT_EQ(c, 6000);
  const auto img = ds.loadImage(12345);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img.pixels.size(), cv::Size(28, 28));
}

}  // namespace
}  // namespace tlab::core
