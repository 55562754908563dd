#include "core/train/Trainer.h"

#include <gtest/gtest.h>

#include <condition_variable>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <opencv2/imgproc.hpp>

#include "core/Errors.h"
#include "core/ScopedEnv.h"
#include "core/TestImages.h"
#include "core/train/CachedFeatures.h"
#include "core/train/Checkpoint.h"
#include "core/train/Evaluate.h"
#include "core/train/FeatureCache.h"
#include "core/train/ModelBundle.h"
#include "core/train/StartingModel.h"
#include "core/util/Random.h"
#include "core/weights/StateDict.h"
#include "core/zoo/Download.h"

namespace tlab::core {
namespace {

// 28x28 grey images with seeded noise: class 0 a bright square, 1 a horizontal bar, 2 a vertical
// bar, all centred (so flips and crops keep the label).
class SquaresStore : public ImageStore {
 public:
  cv::Mat image(int64_t index) const override {
    cv::Mat m(28, 28, CV_8UC1);
    Rng rng(uint64_t(index) * 7919);
    for (int i = 0; i < 28 * 28; ++i) m.data[i] = uint8_t(rng.below(60));
    const cv::Rect shapes[3] = {{9, 9, 10, 10}, {3, 11, 22, 6}, {11, 3, 6, 22}};
    cv::rectangle(m, shapes[index % 3], cv::Scalar(230), cv::FILLED);
    return m;
  }
};

std::shared_ptr<Dataset> squares(int perClassTrain = 30) {
  auto ds = std::make_shared<Dataset>();
  ds->source = "squares";
  ds->format = "memory";
  ds->classNames = {"square", "horizontal", "vertical"};
  ds->store = std::make_shared<SquaresStore>();
  const int n = 3 * (perClassTrain + 20);
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.index = i;
    s.label = i % 3;
    s.split = i < 3 * perClassTrain ? Split::Train
                                    : (i < 3 * (perClassTrain + 10) ? Split::Val : Split::Test);
    ds->samples.push_back(s);
  }
  return ds;
}

TrainConfig smallConfig(Strategy s, int epochs) {
  TrainConfig c;
  c.backbone = "small_cnn_fmnist";
  c.strategy = s;
  c.epochs = epochs;
  c.batchSize = 16;
  c.lr = 3e-3;
  c.seed = 7;
  c.workers = 2;
  c.featureCache = false;
  return c;
}

// Records what the trainer reports (on its thread). Read the vectors directly only after
// join(); while a run is live use waitFor(), which holds the lock while it checks.
struct Recorder : TrainerObserver {
  std::mutex m;
  std::condition_variable changed;
  std::vector<RunState> states;
  std::vector<BatchMetrics> batches;
  std::vector<EpochMetrics> epochs;
  std::vector<std::string> logs;
  std::function<void(const BatchMetrics&)> batchHook;
  std::function<void(const EpochMetrics&)> epochHook;
  void onStatus(const StatusEvent& s) override {
    std::lock_guard<std::mutex> l(m);
    states.push_back(s.state);
    changed.notify_all();
  }
  void onBatch(const BatchMetrics& b) override {
    {
      std::lock_guard<std::mutex> l(m);
      batches.push_back(b);
      changed.notify_all();
    }
    if (batchHook) batchHook(b);
  }
  void onEpoch(const EpochMetrics& e) override {
    {
      std::lock_guard<std::mutex> l(m);
      epochs.push_back(e);
      changed.notify_all();
    }
    if (epochHook) epochHook(e);
  }
  std::vector<TaskProgress> tasks;
  void onTask(const TaskProgress& t) override {
    std::lock_guard<std::mutex> l(m);
    tasks.push_back(t);
  }
  void onLog(const std::string& s) override {
    std::lock_guard<std::mutex> l(m);
    logs.push_back(s);
    changed.notify_all();
  }
  /// Waits until `done()` (called under the lock) holds or `timeout` passes; returns done().
  template <typename Predicate>
  bool waitFor(Predicate done, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> l(m);
    return changed.wait_for(l, timeout, done);
  }
};

TEST(Trainer, FineTunesInTheBackgroundAndReportsEverything) {
  Recorder rec;
  Trainer t(smallConfig(Strategy::FinetuneLast, 4), squares(), {}, &rec);
  t.start();
  t.join();
  const auto& r = t.result();
  ASSERT_EQ(r.state, RunState::Finished) << r.error;
  EXPECT_EQ(r.history.size(), 4u);
  EXPECT_EQ(rec.epochs.size(), 4u);
  EXPECT_EQ(rec.batches.size(), 4u * 6u);  // 90 training images, batch 16
  EXPECT_EQ(rec.states.front(), RunState::Started);
  EXPECT_EQ(rec.states.back(), RunState::Finished);
  ASSERT_TRUE(r.test.has_value());
  EXPECT_EQ(r.test->count, 30);
  EXPECT_GT(r.test->accuracy, 0.9) << "a square and two bars are easy to tell apart";
  EXPECT_EQ(r.test->confusion.size(), 3u);
}

TEST(Trainer, LinearProbeLeavesTheBackboneBitIdentical) {
  Trainer t(smallConfig(Strategy::LinearProbe, 2), squares(), {});
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  const auto fresh =
      readSafetensors(std::string(TLAB_SOURCE_DIR) + "/resources/small_cnn_fmnist.safetensors");
  const auto trained = t.model()->named_parameters();
  const auto buffers = t.model()->named_buffers();
  int checked = 0;
  for (const auto& [k, v] : fresh) {
    if (k.rfind("fc.", 0) == 0) continue;
    const torch::Tensor* now = trained.find(k);
    if (!now) now = buffers.find(k);
    ASSERT_NE(now, nullptr) << k;
    EXPECT_TRUE(torch::equal(*now, v)) << k << " changed under a linear probe";
    ++checked;
  }
  EXPECT_EQ(checked, 18);  // 3 blocks x (conv weight + BN weight, bias, mean, var, count)
}

TEST(Trainer, PauseResumeAndCancelBetweenBatches) {
  Recorder rec;
  Trainer* trainer = nullptr;
  std::atomic<bool> pausedOnce{false};
  rec.batchHook = [&](const BatchMetrics& b) {
    if (b.step == 2 && !pausedOnce.exchange(true)) trainer->pause();
    if (b.step == 5) trainer->cancel();
  };
  Trainer t(smallConfig(Strategy::Full, 5), squares(), {}, &rec);
  trainer = &t;
  t.start();
  size_t batchesWhilePaused = 0;
  ASSERT_TRUE(rec.waitFor(
      [&] {
        batchesWhilePaused = rec.batches.size();
        return std::count(rec.states.begin(), rec.states.end(), RunState::Paused) == 1;
      },
      std::chrono::seconds(30)));
  // Paused: no batch may arrive (150 ms is several steps of this tiny model).
  EXPECT_FALSE(rec.waitFor([&] { return rec.batches.size() > batchesWhilePaused; },
                           std::chrono::milliseconds(150)))
      << "no steps while paused";
  t.resume();
  t.join();
  EXPECT_EQ(t.result().state, RunState::Cancelled);
  EXPECT_EQ(rec.batches.size(), 5u);
  EXPECT_NE(std::find(rec.states.begin(), rec.states.end(), RunState::Resumed), rec.states.end());
}

TEST(Trainer, QueuedLearningRateAndFreezeCommandsApplyBetweenSteps) {
  Recorder rec;
  Trainer* trainer = nullptr;
  TrainConfig c = smallConfig(Strategy::Full, 2);
  c.schedule = ScheduleKind::Constant;
  std::map<std::string, torch::Tensor> block1AtFreeze;
  rec.batchHook = [&](const BatchMetrics& b) {
    if (b.step == 3) {
      trainer->setLearningRate(1e-4);
      trainer->setFrozen("block1", true);
    }
  };
  Trainer t(c, squares(), {}, &rec);
  trainer = &t;
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  EXPECT_DOUBLE_EQ(rec.batches[2].learningRate, 3e-3);
  EXPECT_DOUBLE_EQ(rec.batches[3].learningRate, 1e-4);
  EXPECT_DOUBLE_EQ(rec.batches.back().learningRate, 1e-4);
  EXPECT_FALSE(t.model()->named_parameters()["block1.0.weight"].requires_grad());
  EXPECT_TRUE(t.model()->named_parameters()["block3.0.weight"].requires_grad());
}

TEST(Trainer, EarlyStoppingRestoresTheBestEpoch) {
  TrainConfig c = smallConfig(Strategy::Full, 6);
  c.lr = 1e-9;  // nothing improves after the first epoch
  c.schedule = ScheduleKind::Constant;
  c.earlyStoppingPatience = 2;
  Trainer t(c, squares(), {});
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  EXPECT_EQ(t.result().history.size(), 3u);  // epoch 1 best, 2 and 3 without improvement
  EXPECT_EQ(t.result().bestEpoch, 1);
}

StateDict weightsOf(const Trainer& t) { return stateDictOf(*t.model()); }

TEST(Trainer, ResumedRunEqualsUninterruptedRunInDeterministicMode) {
  test::TempDir dir;
  TrainConfig c = smallConfig(Strategy::Full, 3);
  c.deterministic = true;
  c.restoreBest = false;
  Trainer a(c, squares(), dir / "a");
  a.start();
  a.join();
  ASSERT_EQ(a.result().state, RunState::Finished) << a.result().error;

  Recorder rec;
  Trainer* first = nullptr;
  rec.epochHook = [&](const EpochMetrics& e) {
    if (e.epoch == 1) first->cancel();
  };
  {
    Trainer b1(c, squares(), dir / "b", &rec);
    first = &b1;
    b1.start();
    b1.join();
    ASSERT_EQ(b1.result().state, RunState::Cancelled);
  }
  ASSERT_TRUE(latestCheckpoint(dir / "b").has_value());
  Trainer b2(c, squares(), dir / "b");
  b2.start(/*resume=*/true);
  b2.join();
  ASSERT_EQ(b2.result().state, RunState::Finished) << b2.result().error;
  EXPECT_EQ(b2.result().resumedFromEpoch, 1);
  EXPECT_EQ(b2.result().history.size(), 3u);
  const auto wa = weightsOf(a), wb = weightsOf(b2);
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i)
    EXPECT_TRUE(torch::equal(wa[i].second, wb[i].second)) << wa[i].first;
}

TEST(Trainer, FeatureCacheMissThenHitThenRecoversFromCorruption) {
  test::ScopedCache cache;
  TrainConfig c = smallConfig(Strategy::LinearProbe, 2);
  c.featureCache = true;
  auto run = [&](const std::shared_ptr<Dataset>& ds) {
    Recorder rec;
    Trainer t(c, ds, {}, &rec);
    t.start();
    t.join();
    EXPECT_EQ(t.result().state, RunState::Finished) << t.result().error;
    return std::make_pair(t.result(), rec.logs);
  };
  const auto ds = squares();
  const auto [first, l1] = run(ds);
  EXPECT_EQ(first.featureCache, core::FeatureCacheUse::Miss);
  const auto [second, l2] = run(ds);
  EXPECT_EQ(second.featureCache, core::FeatureCacheUse::Hit);
  EXPECT_DOUBLE_EQ(first.test->accuracy, second.test->accuracy);  // same features, same seed
  // Different data (one more training sample): a different key, so a miss.
  const auto [third, l3] = run(squares(31));
  EXPECT_EQ(third.featureCache, core::FeatureCacheUse::Miss);
  // Corrupt every cache file: the run recomputes instead of failing.
  for (const auto& e : std::filesystem::recursive_directory_iterator(featureCacheDirectory())) {
    if (e.path().extension() == ".h5") test::writeText(e.path(), "corrupt");
  }
  const auto [fourth, l4] = run(ds);
  EXPECT_EQ(fourth.featureCache, core::FeatureCacheUse::Miss);
  EXPECT_TRUE(std::any_of(l4.begin(), l4.end(), [](const std::string& s) {
    return s.find("corrupt") != std::string::npos;
  }));
}

// What the embedding map reuses: a linear probe's per-split cache entries serve any mix of
// samples, row for row equal to extracting them again.
TEST(Trainer, CachedSplitFeaturesServeAnyMixOfSamples) {
  test::ScopedCache cache;
  TrainConfig c = smallConfig(Strategy::LinearProbe, 1);
  c.featureCache = true;
  c.precision = Precision::Fp32;
  const auto ds = squares();
  StartingModel start = startingModel(c, *ds, [](const std::string&) {});
  ASSERT_FALSE(start.weightsPath.empty());
  const std::string digest = sha256File(start.weightsPath);
  const FeatureCache fc(featureCacheDirectory());
  const std::vector<size_t> mix{ds->indicesOf(Split::Test).at(4), ds->indicesOf(Split::Train).at(7),
                                ds->indicesOf(Split::Val).at(0), ds->indicesOf(Split::Test).at(1)};
  EXPECT_FALSE(fc.loadSamples(*ds, mix, c.backbone, digest, start.preprocess));  // none yet

  Trainer t(c, ds, {});
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  ASSERT_EQ(t.result().featureCache, FeatureCacheUse::Miss);  // extracted and stored
  const auto hit = fc.loadSamples(*ds, mix, c.backbone, digest, start.preprocess);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->samples, mix);
  start.net->eval();
  std::vector<size_t> kept;
  const auto direct = extractFeatures(*start.net, ds, mix, start.preprocess, kept);
  ASSERT_EQ(kept, mix);
  EXPECT_TRUE(torch::allclose(hit->features, direct, 1e-4, 1e-5));
  // Another backbone id or weights: nothing covers them.
  EXPECT_FALSE(fc.loadSamples(*ds, mix, "resnet18", digest, start.preprocess));
  EXPECT_FALSE(fc.loadSamples(*ds, mix, c.backbone, "random", start.preprocess));
}

// Found by a new user: a linear probe showed no progress for the ~30 s of feature extraction.
TEST(Trainer, FeatureExtractionAndEvaluationReportTheirProgress) {
  test::ScopedCache cache;
  TrainConfig c = smallConfig(Strategy::LinearProbe, 1);
  c.featureCache = true;
  Recorder rec;
  Trainer t(c, squares(), {}, &rec);
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  auto reportsOf = [&](const std::string& task) {
    std::vector<TaskProgress> out;
    for (const auto& r : rec.tasks)
      if (r.task == task) out.push_back(r);
    return out;
  };
  const auto train = reportsOf("extracting features (train split)");
  ASSERT_GE(train.size(), 2u) << "a start and an end";
  EXPECT_EQ(train.front().done, 0);
  EXPECT_EQ(train.back().done, train.back().total);
  EXPECT_GT(train.back().total, 0);
  EXPECT_GE(train.back().etaSeconds(), 0.0);
  EXPECT_FALSE(reportsOf("extracting features (test split)").empty());

  // Without the cache the final evaluation reports instead.
  c.featureCache = false;
  c.strategy = Strategy::FinetuneLast;
  Recorder rec2;
  Trainer t2(c, squares(), {}, &rec2);
  t2.start();
  t2.join();
  bool testEval = false;
  for (const auto& r : rec2.tasks)
    testEval |= r.task == "evaluating the test split" && r.done == r.total;
  EXPECT_TRUE(testEval);
}

TEST(Trainer, ExportedBundlePredictsLikeTheTrainedModel) {
  test::TempDir dir;
  Trainer t(smallConfig(Strategy::FinetuneLast, 2), squares(), {});
  t.start();
  t.join();
  const auto& r = t.result();
  ASSERT_EQ(r.state, RunState::Finished) << r.error;
  exportModelBundle(dir / "model", *t.model(),
                    {r.architecture,
                     "small_cnn_fmnist",
                     {HeadSpec::Kind::Linear, 3, 256, 0.2},
                     r.classNames,
                     r.preprocess,
                     1.0,
                     0.5,
                     {}});
  const LoadedModel m = loadModelBundle(dir / "model");
  EXPECT_EQ(m.info.classNames, r.classNames);
  torch::NoGradGuard g;
  const auto x = torch::randn({4, 1, 28, 28});
  t.model()->eval();
  EXPECT_TRUE(torch::allclose(t.model()->forward(x), m.net->forward(x)));
  test::writeText(dir / "model/model.json", "{broken");
  EXPECT_THROW(loadModelBundle(dir / "model"), FormatError);
}

TEST(Trainer, DepthwiseNetworksTrainInChannelsLast) {
  TrainConfig c = smallConfig(Strategy::Scratch, 1);
  c.backbone = "mobilenet_v2";  // random init: no weights needed
  c.imageSize = 32;
  Recorder rec;
  Trainer t(c, squares(), {}, &rec);
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  EXPECT_EQ(memoryFormatOf(*t.model()), torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(std::any_of(rec.logs.begin(), rec.logs.end(), [](const std::string& s) {
    return s.find("channels_last") != std::string::npos;
  }));
}

TEST(Trainer, FailuresAreReportedNotThrown) {
  TrainConfig c = smallConfig(Strategy::Full, 1);
  c.backbone = "no_such_backbone";
  Recorder rec;
  Trainer t(c, squares(), {}, &rec);
  t.start();
  t.join();
  EXPECT_EQ(t.result().state, RunState::Failed);
  EXPECT_NE(t.result().error.find("no_such_backbone"), std::string::npos);
  EXPECT_EQ(rec.states.back(), RunState::Failed);
}

}  // namespace
}  // namespace tlab::core

namespace tlab::core {
namespace {

// bf16 autocast end to end, emulated where the CPU has no native bf16: MobileNetV2 (ReLU6 has no
// bf16 backward in libtorch 1.13, so training must not use it), weights and results stay fp32.
TEST(Trainer, Bf16RunTrainsWithFp32MasterWeightsAndSaysWhy) {
  TrainConfig c = smallConfig(Strategy::Scratch, 1);
  c.backbone = "mobilenet_v2";
  c.imageSize = 32;
  c.precision = Precision::Bf16;
  Recorder rec;
  Trainer t(c, squares(10), {}, &rec);
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  for (const auto& p : t.model()->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
  for (const auto& b : t.model()->buffers())
    EXPECT_TRUE(b.scalar_type() == torch::kFloat || b.scalar_type() == torch::kLong);
  ASSERT_FALSE(rec.epochs.empty());
  EXPECT_TRUE(std::isfinite(rec.epochs.back().trainLoss));
  EXPECT_TRUE(std::any_of(rec.logs.begin(), rec.logs.end(),
                          [](const std::string& s) { return s.rfind("precision bf16", 0) == 0; }));
}

TEST(Trainer, AutoPrecisionFollowsTheCpu) {
  TrainConfig c = smallConfig(Strategy::Full, 1);
  c.backbone = "small_cnn";
  c.precision = Precision::Auto;
  Recorder rec;
  Trainer t(c, squares(5), {}, &rec);
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  const std::string expected =
      nativeBf16Feature().empty() ? "precision auto -> fp32" : "precision auto -> bf16";
  EXPECT_TRUE(std::any_of(rec.logs.begin(), rec.logs.end(), [&](const std::string& s) {
    return s.rfind(expected, 0) == 0;
  })) << expected;
}

}  // namespace
}  // namespace tlab::core
