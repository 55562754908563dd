#include "core/dataset/Hdf5Dataset.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <opencv2/core.hpp>

#include <fstream>
#include <thread>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/dataset/Readers.h"

namespace tlab::core {
namespace {
using test::TempDir;

TEST(Hdf5Dataset, WriteThenReadRoundTripsPixelsLabelsSplitsAndNames) {
  TempDir dir;
  const auto path = dir / "d.h5";
  {
    Hdf5Writer w(path, 6, 5, 3, {"alpha", "beta", "gamma"});
    for (int i = 0; i < 4; ++i) {
      w.append(test::patternRgb(5, 6, i), i % 3, i == 3 ? Split::Test : Split::Train);
    }
    EXPECT_FALSE(std::filesystem::exists(path));  // only after close()
    w.close();
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  const Dataset ds = openDataset(path);
  EXPECT_EQ(ds.format, "hdf5");
  ASSERT_EQ(ds.size(), 4u);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(ds.samples[3].label, 0);
  EXPECT_EQ(ds.samples[3].split, Split::Test);
  for (int i = 0; i < 4; ++i) {
    const auto img = ds.loadImage(size_t(i));
    ASSERT_TRUE(img.ok()) << img.error;
    EXPECT_EQ(cv::norm(img.pixels, test::patternRgb(5, 6, i), cv::NORM_INF), 0.0);
  }
}

TEST(Hdf5Dataset, GreyImagesAndConcurrentReads) {
  TempDir dir;
  const auto path = dir / "g.h5";
  {
    Hdf5Writer w(path, 4, 4, 1, {"a", "b"});
    for (int i = 0; i < 50; ++i)
      w.append(cv::Mat(4, 4, CV_8UC1, cv::Scalar(i)), i % 2, Split::None);
    w.close();
  }
  const Dataset ds = readHdf5Dataset(path);
  EXPECT_FALSE(ds.hasPredefinedSplit());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (ds.loadImage(size_t(i)).pixels.at<uint8_t>(2, 2) != i) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Hdf5Dataset, AbandonedWriterLeavesNoFile) {
  TempDir dir;
  {
    Hdf5Writer w(dir / "x.h5", 2, 2, 1, {"a", "b"});
    w.append(cv::Mat(2, 2, CV_8UC1, cv::Scalar(1)), 0, Split::None);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// Writes an HDF5 file by hand with the given images shape and label values.
void writeRaw(const std::filesystem::path& path, std::vector<hsize_t> dims,
              std::vector<int64_t> labelValues) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t s = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  hid_t d = H5Dcreate2(f, "images", H5T_STD_U8LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(d);
  H5Sclose(s);
  if (!labelValues.empty()) {
    hsize_t n = labelValues.size();
    hid_t ls = H5Screate_simple(1, &n, nullptr);
    hid_t ld = H5Dcreate2(f, "labels", H5T_STD_I64LE, ls, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ld, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, labelValues.data());
    H5Dclose(ld);
    H5Sclose(ls);
  }
  H5Fclose(f);
}

void expectError(const std::filesystem::path& path, const std::string& mention) {
  try {
    readHdf5Dataset(path);
    FAIL() << "expected an error mentioning " << mention;
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(Hdf5Dataset, MalformedFilesAreClearErrors) {
  TempDir dir;
  writeRaw(dir / "rank.h5", {2, 3}, {0, 1});
  expectError(dir / "rank.h5", "rank");
  writeRaw(dir / "chan.h5", {2, 3, 3, 4}, {0, 1});
  expectError(dir / "chan.h5", "channels");
  writeRaw(dir / "nolabels.h5", {2, 3, 3}, {});
  expectError(dir / "nolabels.h5", "labels");
  writeRaw(dir / "count.h5", {3, 3, 3}, {0, 1});
  expectError(dir / "count.h5", "shape [3]");
  writeRaw(dir / "neg.h5", {2, 3, 3}, {0, -1});
  expectError(dir / "neg.h5", "negative label");
  test::writeText(dir / "fake.h5", "definitely not hdf5");
  expectError(dir / "fake.h5", "signature");
  {
    Hdf5Writer w(dir / "ok.h5", 8, 8, 1, {"a", "b"});
    for (int i = 0; i < 20; ++i)
      w.append(cv::Mat(8, 8, CV_8UC1, cv::Scalar(i)), i % 2, Split::None);
    w.close();
  }
  const auto size = std::filesystem::file_size(dir / "ok.h5");
  std::filesystem::copy_file(dir / "ok.h5", dir / "cut.h5");
  std::filesystem::resize_file(dir / "cut.h5", size / 2);
  expectError(dir / "cut.h5", "HDF5");
}

TEST(Hdf5Dataset, ExportSkipsUndecodableSamples) {
  TempDir dir;
  test::writeImage(dir / "src/a/1.png", test::patternRgb(10, 10));
  test::writeImage(dir / "src/b/1.png", test::patternRgb(12, 8));
  test::writeText(dir / "src/b/2.png", "broken");
  const Dataset src = readImageFolder(dir / "src");
  const auto skipped = exportToHdf5(src, {0, 1, 2}, dir / "out.h5", 6, 6, 3);
  ASSERT_EQ(skipped.size(), 1u);
  const Dataset out = readHdf5Dataset(dir / "out.h5");
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(out.classNames, src.classNames);
  EXPECT_EQ(out.loadImage(1).pixels.size(), cv::Size(6, 6));
}

}  // namespace
}  // namespace tlab::core
