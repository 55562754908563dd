#include "core/data/DataLoader.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "core/TestImages.h"
#include "core/dataset/Readers.h"

namespace tlab::core {
namespace {

// An in-memory image store: image i is a 12x12 grey square of value i % 256.
class CountingStore : public ImageStore {
 public:
  cv::Mat image(int64_t index) const override {
    return cv::Mat(12, 12, CV_8UC1, cv::Scalar(double(index % 256)));
  }
};

std::shared_ptr<Dataset> memoryDataset(size_t n) {
  auto ds = std::make_shared<Dataset>();
  ds->source = "memory";
  ds->classNames = {"even", "odd"};
  ds->store = std::make_shared<CountingStore>();
  for (size_t i = 0; i < n; ++i) {
    Sample s;
    s.index = int64_t(i);
    s.label = int32_t(i % 2);
    ds->samples.push_back(s);
  }
  return ds;
}

std::vector<size_t> allIndices(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

LoaderOptions options(int workers, bool augment) {
  LoaderOptions o;
  o.batchSize = 8;
  o.workers = workers;
  o.prefetchBatches = 3;
  o.seed = 77;
  o.preprocess.inputSize = 8;
  o.preprocess.channels = 1;
  o.preprocess.mean = {0.5f, 0.5f, 0.5f};
  o.preprocess.std = {0.5f, 0.5f, 0.5f};
  o.augmentation.enabled = augment;
  o.augmentation.rotationDegrees = 10;
  o.augmentation.brightness = 0.3;
  return o;
}

std::vector<Batch> drain(DataLoader& loader, uint64_t epoch) {
  loader.startEpoch(epoch);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

TEST(DataLoader, EveryIndexOnceInBatchesOfTheRightShape) {
  auto ds = memoryDataset(50);
  DataLoader loader(ds, allIndices(50), options(2, false));
  const auto batches = drain(loader, 0);
  ASSERT_EQ(batches.size(), 7u);
  EXPECT_EQ(batches.back().size(), 2u);
  std::multiset<size_t> seen;
  for (const auto& b : batches) {
    EXPECT_EQ(b.images.size(), b.size() * 1 * 8 * 8);
    for (size_t k = 0; k < b.size(); ++k) {
      seen.insert(b.indices[k]);
      EXPECT_EQ(b.labels[k], int64_t(b.indices[k] % 2));
      // Pixel value i/255 normalised with mean 0.5, std 0.5.
      EXPECT_NEAR(b.images[k * 64], (double(b.indices[k]) / 255.0 - 0.5) / 0.5, 1e-5);
    }
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(std::set<size_t>(seen.begin(), seen.end()).size(), 50u);
}

TEST(DataLoader, DeterministicForASeedWhateverTheWorkerCount) {
  auto ds = memoryDataset(40);
  DataLoader one(ds, allIndices(40), options(1, true));
  DataLoader three(ds, allIndices(40), options(3, true));
  const auto a = drain(one, 4);
  const auto b = drain(three, 4);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].indices, b[i].indices);
    EXPECT_EQ(a[i].images, b[i].images);  // bit-identical, augmentation included
  }
  const auto c = drain(one, 5);  // another epoch: another order
  EXPECT_NE(a[0].indices, c[0].indices);
}

TEST(DataLoader, MemoryIsBoundedBySlowConsumers) {
  auto ds = memoryDataset(2000);
  LoaderOptions o = options(4, false);
  o.prefetchBatches = 2;
  DataLoader loader(ds, allIndices(2000), o);
  loader.startEpoch(0);
  size_t count = 0;
  while (auto b = loader.next()) {
    if (count++ % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(count, 250u);
  EXPECT_LE(loader.peakBatchesInFlight(), 2u);
  EXPECT_GE(loader.peakBatchesInFlight(), 1u);
}

TEST(DataLoader, BrokenFilesAreSkippedAndReported) {
  test::TempDir dir;
  for (int i = 0; i < 6; ++i)
    test::writeImage(dir / ("a/" + std::to_string(i) + ".png"), test::patternRgb(10, 10));
  for (int i = 0; i < 6; ++i)
    test::writeImage(dir / ("b/" + std::to_string(i) + ".png"), test::patternRgb(10, 10));
  test::writeText(dir / "b/broken.png", "nope");
  auto ds = std::make_shared<Dataset>(readImageFolder(dir.path()));
  LoaderOptions o = options(2, true);
  o.preprocess.channels = 3;
  DataLoader loader(ds, allIndices(ds->size()), o);
  size_t total = 0;
  for (const auto& b : drain(loader, 0)) total += b.size();
  EXPECT_EQ(total, 12u);
  const auto skipped = loader.takeSkipped();
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].path.find("broken.png"), std::string::npos);
}

TEST(DataLoader, CancelEndsIterationAndDestructorJoins) {
  auto ds = memoryDataset(5000);
  auto loader = std::make_unique<DataLoader>(ds, allIndices(5000), options(2, true));
  loader->startEpoch(0);
  ASSERT_TRUE(loader->next().has_value());
  loader->cancel();
  EXPECT_FALSE(loader->next().has_value());
  loader.reset();  // must not hang
}

TEST(DataLoader, RejectsBadOptions) {
  auto ds = memoryDataset(4);
  LoaderOptions o = options(1, false);
  o.batchSize = 0;
  EXPECT_THROW(DataLoader(ds, allIndices(4), o), std::exception);
  EXPECT_THROW(DataLoader(ds, {9}, options(1, false)), std::exception);
}

}  // namespace
}  // namespace tlab::core
