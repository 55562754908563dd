#include "core/dataset/Split.h"

#include <gtest/gtest.h>

#include "core/Errors.h"

namespace tlab::core {
namespace {

Dataset synthetic(std::vector<int> perClass) {
  Dataset ds;
  ds.source = "synthetic";
  for (size_t c = 0; c < perClass.size(); ++c) {
    ds.classNames.push_back("class" + std::to_string(c));
    for (int i = 0; i < perClass[c]; ++i) {
      Sample s;
      s.path = "c" + std::to_string(c) + "/" + std::to_string(i);
      s.label = int32_t(c);
      ds.samples.push_back(s);
    }
  }
  return ds;
}

std::vector<Split> splitsOf(const Dataset& ds) {
  std::vector<Split> out;
  for (const auto& s : ds.samples) out.push_back(s.split);
  return out;
}

TEST(Split, StratifiedProportionsPerClass) {
  Dataset ds = synthetic({100, 40, 7});
  assignSplits(ds, {0.2, 0.1, 42, SplitPolicy::Resplit});
  EXPECT_EQ(ds.classCounts(Split::Val), (std::vector<int64_t>{20, 8, 1}));   // round(0.2 * 7) = 1
  EXPECT_EQ(ds.classCounts(Split::Test), (std::vector<int64_t>{10, 4, 1}));  // round(0.1 * 7) = 1
  EXPECT_EQ(ds.classCounts(Split::Train), (std::vector<int64_t>{70, 28, 5}));
}

TEST(Split, SameSeedSameSplitDifferentSeedDifferentSplit) {
  Dataset a = synthetic({50, 50}), b = synthetic({50, 50}), c = synthetic({50, 50});
  assignSplits(a, {0.2, 0.2, 1, SplitPolicy::Resplit});
  assignSplits(b, {0.2, 0.2, 1, SplitPolicy::Resplit});
  assignSplits(c, {0.2, 0.2, 2, SplitPolicy::Resplit});
  EXPECT_EQ(splitsOf(a), splitsOf(b));
  EXPECT_NE(splitsOf(a), splitsOf(c));
}

TEST(Split, AddingAClassDoesNotMoveOtherClassesSamples) {
  Dataset a = synthetic({30, 30}), b = synthetic({30, 30, 30});
  assignSplits(a, {0.2, 0.2, 9, SplitPolicy::Resplit});
  assignSplits(b, {0.2, 0.2, 9, SplitPolicy::Resplit});
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.samples[i].split, b.samples[i].split);
}

TEST(Split, KeepsPredefinedSplitAndCarvesValFromTrain) {
  Dataset ds = synthetic({20, 20});
  for (size_t i = 0; i < ds.size(); ++i)
    ds.samples[i].split = (i % 5 == 0) ? Split::Test : Split::Train;
  const auto testBefore = ds.classCounts(Split::Test);
  assignSplits(ds, {0.25, 0.5, 3, SplitPolicy::KeepPredefined});
  EXPECT_EQ(ds.classCounts(Split::Test), testBefore);  // untouched; test fraction ignored
  EXPECT_EQ(ds.classCounts(Split::Val), (std::vector<int64_t>{4, 4}));  // 25% of 16 train
  EXPECT_EQ(ds.classCounts(Split::Train), (std::vector<int64_t>{12, 12}));
}

TEST(Split, TinyClassesKeepATrainingSample) {
  Dataset ds = synthetic({1, 2});
  assignSplits(ds, {0.4, 0.4, 0, SplitPolicy::Resplit});
  EXPECT_EQ(ds.classCounts(Split::Train)[0], 1);
  EXPECT_GE(ds.classCounts(Split::Train)[1], 1);
}

TEST(Split, RejectsBadFractions) {
  Dataset ds = synthetic({5, 5});
  EXPECT_THROW(assignSplits(ds, {0.6, 0.5, 0, SplitPolicy::Resplit}), InvalidArgument);
  EXPECT_THROW(assignSplits(ds, {-0.1, 0.1, 0, SplitPolicy::Resplit}), InvalidArgument);
}

}  // namespace
}  // namespace tlab::core
