#include "core/train/DataEfficiency.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <opencv2/imgproc.hpp>

#include "cli/ShapesDataset.h"
#include "core/Errors.h"
#include "core/ScopedEnv.h"
#include "core/TestImages.h"
#include "core/util/Random.h"

namespace tlab::core {
namespace {

// `counts[c]` samples of class c, interleaved; every sample is in the pool.
Dataset labelsOnly(const std::vector<int>& counts, std::vector<std::string> names) {
  Dataset ds;
  ds.classNames = std::move(names);
  std::vector<int> left = counts;
  for (bool any = true; any;) {
    any = false;
    for (size_t c = 0; c < left.size(); ++c) {
      if (left[c] == 0) continue;
      Sample s;
      s.label = int32_t(c);
      s.index = int64_t(ds.samples.size());
      ds.samples.push_back(s);
      --left[c];
      any = true;
    }
  }
  return ds;
}

std::vector<size_t> all(const Dataset& ds) {
  std::vector<size_t> v(ds.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

std::vector<int> perClassCounts(const Dataset& ds, const std::vector<size_t>& idx) {
  std::vector<int> n(ds.numClasses(), 0);
  for (size_t i : idx) ++n[size_t(ds.samples[i].label)];
  return n;
}

TEST(DataEfficiency, SubsampleIsStratifiedAndCappedByWhatAClassHas) {
  const Dataset ds = labelsOnly({12, 7, 3}, {"a", "b", "c"});
  EXPECT_EQ(perClassCounts(ds, nestedSubsample(ds, all(ds), 5, 1)), (std::vector<int>{5, 5, 3}));
  EXPECT_EQ(perClassCounts(ds, nestedSubsample(ds, all(ds), 1, 1)), (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(perClassCounts(ds, nestedSubsample(ds, all(ds), 50, 1)), (std::vector<int>{12, 7, 3}));
}

TEST(DataEfficiency, SubsampleIsSeeded) {
  const Dataset ds = labelsOnly({40, 40}, {"a", "b"});
  const auto first = nestedSubsample(ds, all(ds), 5, 11);
  EXPECT_EQ(first, nestedSubsample(ds, all(ds), 5, 11));
  EXPECT_NE(first, nestedSubsample(ds, all(ds), 5, 12));
  EXPECT_TRUE(std::is_sorted(first.begin(), first.end()));
}

TEST(DataEfficiency, SubsamplesOfOneSeedAreNested) {
  const Dataset ds = labelsOnly({60, 45, 30}, {"a", "b", "c"});
  for (uint64_t seed : {0u, 1u, 2u}) {
    std::vector<size_t> previous;
    for (int n : {1, 2, 5, 10, 20, 50}) {
      const auto current = nestedSubsample(ds, all(ds), n, seed);
      EXPECT_TRUE(std::includes(current.begin(), current.end(), previous.begin(), previous.end()))
          << "n=" << n << " seed " << seed;
      previous = current;
    }
  }
}

TEST(DataEfficiency, SubsampleTakesOnlyFromThePoolWhateverItsOrder) {
  const Dataset ds = labelsOnly({20, 20}, {"a", "b"});
  std::vector<size_t> pool;
  for (size_t i = 0; i < ds.size(); i += 2) pool.push_back(i);  // class "a" only (interleaved)
  pool.push_back(1);
  pool.push_back(3);
  pool.push_back(5);
  const auto picked = nestedSubsample(ds, pool, 4, 3);
  for (size_t i : picked) EXPECT_NE(std::find(pool.begin(), pool.end(), i), pool.end()) << i;
  EXPECT_EQ(perClassCounts(ds, picked), (std::vector<int>{4, 3}));
  std::vector<size_t> reversed(pool.rbegin(), pool.rend());
  EXPECT_EQ(nestedSubsample(ds, reversed, 4, 3), picked);
}

TEST(DataEfficiency, AnotherClassDoesNotMoveAClassesSubsample) {
  // Each class draws from a stream of its own name: adding "c" leaves "a" and "b" as they were.
  const Dataset two = labelsOnly({30, 30}, {"a", "b"});
  Dataset three = two;
  three.classNames.push_back("c");
  for (int i = 0; i < 30; ++i) {
    Sample s;
    s.label = 2;
    three.samples.push_back(s);
  }
  auto picked = nestedSubsample(three, all(three), 6, 9);
  picked.erase(std::remove_if(picked.begin(), picked.end(), [](size_t i) { return i >= 60; }),
               picked.end());
  EXPECT_EQ(picked, nestedSubsample(two, all(two), 6, 9));
}

TEST(DataEfficiency, RunnableSizesStopAtTheSmallestClass) {
  EXPECT_EQ(runnablePerClass({1, 2, 5, 10, 20, 50, 100}, 30),
            (std::vector<int>{1, 2, 5, 10, 20, 30}));
  EXPECT_EQ(runnablePerClass({10, 1, 5}, 100), (std::vector<int>{1, 5, 10}));
  EXPECT_EQ(runnablePerClass({5, 10}, 10), (std::vector<int>{5, 10}));
  EXPECT_THROW(runnablePerClass({0, 5}, 10), InvalidArgument);
  EXPECT_THROW(runnablePerClass({}, 10), InvalidArgument);
  EXPECT_THROW(runnablePerClass({5}, 0), InvalidArgument);
}

TEST(DataEfficiency, CurveHasMeanSpreadAndRangePerPoint) {
  auto row = [](int n, Strategy s, int seed, double acc) {
    DataEfficiencyRow r;
    r.run.perClass = n;
    r.run.strategy = s;
    r.run.seed = seed;
    r.accuracy = acc;
    return r;
  };
  const auto points =
      summarizeCurve({row(2, Strategy::Scratch, 0, 0.2), row(2, Strategy::LinearProbe, 0, 0.5),
                      row(2, Strategy::LinearProbe, 1, 0.7), row(2, Strategy::LinearProbe, 2, 0.9),
                      row(1, Strategy::LinearProbe, 0, 0.4)});
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].strategy, Strategy::LinearProbe);
  EXPECT_EQ(points[0].perClass, 1);
  EXPECT_EQ(points[1].perClass, 2);
  EXPECT_EQ(points[1].runs, 3);
  EXPECT_NEAR(points[1].mean, 0.7, 1e-12);
  EXPECT_NEAR(points[1].stddev, 0.2, 1e-12);  // sqrt((0.04 + 0 + 0.04) / 2)
  EXPECT_DOUBLE_EQ(points[1].min, 0.5);
  EXPECT_DOUBLE_EQ(points[1].max, 0.9);
  EXPECT_EQ(points[2].strategy, Strategy::Scratch);
  EXPECT_DOUBLE_EQ(points[2].stddev, 0.0);
}

TEST(DataEfficiency, TimeLeftScalesEachStrategysPaceByTheWorkAhead) {
  DataEfficiencyRow probe, scratch;
  probe.run = {1, Strategy::LinearProbe, 0, 10, 10};  // (10 + 10 val) x 10 + 100 test = 300
  probe.seconds = 3;                                  // 0.01 s per unit
  scratch.run = {1, Strategy::Scratch, 0, 10, 20};    // (10 + 10) x 20 + 100 = 500
  scratch.seconds = 50;                               // 0.1 s per unit
  const std::vector<DataEfficiencyRun> ahead{
      {10, Strategy::LinearProbe, 0, 100, 10},  // (100 + 10) x 10 + 100 = 1200 -> 12 s
      {10, Strategy::Scratch, 0, 100, 20},      // (100 + 10) x 20 + 100 = 2300 -> 230 s
      {10, Strategy::Full, 0, 100, 10}};        // no pace yet: the slowest's, 1200 -> 120 s
  EXPECT_NEAR(estimateSecondsLeft({probe, scratch}, ahead, 10, 100), 12 + 230 + 120, 1e-9);
  EXPECT_DOUBLE_EQ(estimateSecondsLeft({probe}, {}, 10, 100), 0.0);
  EXPECT_DOUBLE_EQ(estimateSecondsLeft({}, ahead, 10, 100), -1.0);
}

TEST(DataEfficiency, CsvHasTheDocumentedColumns) {
  DataEfficiencyRow r;
  r.run = {5, Strategy::Scratch, 2, 15, 3};
  r.accuracy = 0.5;
  r.macroF1 = 0.25;
  r.seconds = 1.5;
  EXPECT_EQ(dataEfficiencyCsv({r}),
            "n,strategy,seed,accuracy,macro_f1,seconds\n5,scratch,2,0.500000,0.250000,1.500000\n");
}

// The CLI tests' shapes (noise with a square, a horizontal or a vertical bar), class index % 3.
class ShapesStore : public ImageStore {
 public:
  cv::Mat image(int64_t index) const override {
    return test::shapeImage(int(index % 3), int(index));
  }
};

// 10 train, 5 val and 10 test images per class.
std::shared_ptr<Dataset> shapes() {
  auto ds = std::make_shared<Dataset>();
  ds->source = "shapes";
  ds->format = "memory";
  ds->classNames = {"square", "horizontal", "vertical"};
  ds->store = std::make_shared<ShapesStore>();
  for (int i = 0; i < 75; ++i) {
    Sample s;
    s.index = i;
    s.label = i % 3;
    s.split = i < 30 ? Split::Train : (i < 45 ? Split::Val : Split::Test);
    ds->samples.push_back(s);
  }
  return ds;
}

TrainConfig shapesConfig() {
  TrainConfig c;
  c.backbone = "small_cnn_fmnist";
  c.batchSize = 16;
  c.seed = 5;
  c.workers = 1;
  return c;
}

struct Recorder : DataEfficiencyObserver {
  std::vector<DataEfficiencyRun> started;
  std::vector<int> finishedIndex;
  TrainerControl* cancelAfterFirst = nullptr;
  void onRunStarted(const DataEfficiencyRun& r, int, int) override { started.push_back(r); }
  std::vector<double> secondsLeft;
  void onRunFinished(const DataEfficiencyRow&, int index, int, double left) override {
    finishedIndex.push_back(index);
    secondsLeft.push_back(left);
    if (cancelAfterFirst) cancelAfterFirst->cancel = true;
  }
};

TEST(DataEfficiency, RunsEveryPointOnTheSharedSplit) {
  test::ScopedCache cache;
  DataEfficiencyPlan plan;
  plan.perClass = {1, 3, 20};  // 20 is more than a class has: replaced by 10
  plan.seeds = 2;
  plan.epochs = 1;
  plan.minSteps = 30;
  TrainerControl control;
  Recorder rec;
  const auto r = runDataEfficiency(shapesConfig(), shapes(), plan, control, &rec);
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.perClass, (std::vector<int>{1, 3, 10}));
  EXPECT_EQ(r.totalRuns, 12);
  ASSERT_EQ(r.rows.size(), 12u);
  EXPECT_EQ(r.valSamples, 15);
  EXPECT_EQ(r.testSamples, 30);
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    EXPECT_EQ(row.run.samples, 3 * row.run.perClass);
    // One step per epoch up to 16 samples; 30 samples are two.
    EXPECT_EQ(row.run.epochs, row.run.samples <= 16 ? 30 : 15) << i;
    EXPECT_GE(row.accuracy, 0.0);
    EXPECT_LE(row.accuracy, 1.0);
    EXPECT_EQ(row.featureCache == FeatureCacheUse::Off, row.run.strategy == Strategy::Scratch);
    EXPECT_EQ(rec.finishedIndex[i], int(i));
  }
  EXPECT_GE(rec.secondsLeft.front(), 0.0);
  EXPECT_DOUBLE_EQ(rec.secondsLeft.back(), 0.0);  // nothing left after the last run
  // n ascending, then seeds, then strategies: the curve fills from the left.
  EXPECT_EQ(rec.started[0].perClass, 1);
  EXPECT_EQ(rec.started[0].strategy, Strategy::LinearProbe);
  EXPECT_EQ(rec.started[1].strategy, Strategy::Scratch);
  EXPECT_EQ(rec.started[2].seed, 1);
  EXPECT_EQ(rec.started[11].perClass, 10);
  // The pre-trained shapes are easy for the frozen Fashion-MNIST features with every image.
  const auto points = summarizeCurve(r.rows);
  EXPECT_GT(points[2].mean, 0.8) << "linear probe at n=10";
}

TEST(DataEfficiency, CancelKeepsTheFinishedRuns) {
  test::ScopedCache cache;
  DataEfficiencyPlan plan;
  plan.perClass = {1, 2};
  plan.seeds = 2;
  plan.epochs = 1;
  plan.minSteps = 0;
  TrainerControl control;
  Recorder rec;
  rec.cancelAfterFirst = &control;
  const auto r = runDataEfficiency(shapesConfig(), shapes(), plan, control, &rec);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.totalRuns, 8);
}

TEST(DataEfficiency, NeedsATestSplit) {
  auto ds = shapes();
  for (auto& s : ds->samples)
    if (s.split == Split::Test) s.split = Split::Train;
  TrainConfig cfg = shapesConfig();
  cfg.testFraction = 0;
  TrainerControl control;
  EXPECT_THROW(runDataEfficiency(cfg, ds, {}, control), InvalidArgument);
}

}  // namespace
}  // namespace tlab::core
