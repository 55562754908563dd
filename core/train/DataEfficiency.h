#pragma once
// The data-efficiency curve, the central figure of transfer learning: test accuracy against the
// number of labelled training samples per class, for strategies that start from a pre-trained
// backbone against the same architecture trained from scratch, over several seeded subsamples.
//
// Every run of one experiment sees the same validation and test samples (the split is assigned
// once, as a run on the whole dataset would assign it) and trains on a stratified, seeded, nested
// subsample of the training split. Validation and test keep their sample positions in every
// run's dataset, so their frozen-backbone features are extracted once and then come from the
// feature cache; only each subsample's own training features are computed.
//
// Threading: runDataEfficiency() trains on the calling thread (a worker, never the GUI's); the
// observer is called on that thread. Cancel and pause through TrainerControl, as for a run.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dataset/Dataset.h"
#include "core/train/TrainConfig.h"
#include "core/train/Trainer.h"

namespace tlab::core {

/// The first min(n, available) members of each class in `pool` (indices into dataset.samples)
/// after a permutation seeded by `seed` and the class *name*: stratified, reproducible, and
/// nested (for one seed the n=5 subsample contains the n=2 subsample). Sorted ascending.
std::vector<size_t> nestedSubsample(const Dataset& dataset, const std::vector<size_t>& pool,
                                    int perClass, uint64_t seed);

struct DataEfficiencyPlan {
  std::vector<int> perClass{1, 2, 5, 10, 20, 50, 100};  ///< labelled samples per class
  std::vector<Strategy> strategies{Strategy::LinearProbe, Strategy::Scratch};
  int seeds = 3;  ///< subsamples (and training seeds) per point
  /// A subset of 10 images is one step per epoch: small subsets train for more epochs so that
  /// every run takes at least this many optimisation steps (0: the strategy's epochs only).
  int minSteps = 100;
  /// >0: every strategy trains this many epochs (before minSteps); 0: each strategy's own
  /// (withStrategyDefaults: linear-probe 10, scratch 20, ...).
  int epochs = 0;
};

/// The per-class sizes an experiment runs: the plan's sizes up to the smallest class's training
/// count, plus that count itself when the plan asked for more. Sorted, unique. Throws
/// InvalidArgument when none remains (a size below 1) or the plan is empty.
std::vector<int> runnablePerClass(const std::vector<int>& requested, int64_t smallestClass);

struct DataEfficiencyRun {
  int perClass = 0;
  Strategy strategy = Strategy::LinearProbe;
  int seed = 0;         ///< 0-based subsample index
  int64_t samples = 0;  ///< training samples of the subsample
  int epochs = 0;       ///< what the run trains (minSteps applied)
};

struct DataEfficiencyRow {
  DataEfficiencyRun run;
  double accuracy = 0, macroF1 = 0;  ///< on the test split
  double seconds = 0;
  FeatureCacheUse featureCache = FeatureCacheUse::Off;
};

/// Mean and spread over seeds of one (n, strategy) point.
struct CurvePoint {
  int perClass = 0;
  Strategy strategy = Strategy::LinearProbe;
  int runs = 0;
  double mean = 0, stddev = 0, min = 0, max = 0;  ///< test accuracy; stddev with n-1 (0 for 1 run)
};
/// One point per (strategy, n) present in `rows`, ordered by strategy then n.
std::vector<CurvePoint> summarizeCurve(const std::vector<DataEfficiencyRow>& rows);

/// The experiment's time left. Runs differ a hundredfold (a cached probe on 10 images against
/// training from scratch on 900), so the pace of finished runs alone misleads: per strategy, the
/// seconds its finished runs took per unit of work, (training + validation samples) x epochs +
/// test samples, times the work of its remaining runs; a strategy without a finished run yet
/// is assumed as slow as the slowest one seen. -1 while nothing has finished.
double estimateSecondsLeft(const std::vector<DataEfficiencyRow>& done,
                           const std::vector<DataEfficiencyRun>& remaining, int64_t valSamples,
                           int64_t testSamples);

class DataEfficiencyObserver : public TrainerObserver {
 public:
  /// `index` is 0-based of `total` runs.
  virtual void onRunStarted(const DataEfficiencyRun&, int /*index*/, int /*total*/) {}
  /// `secondsLeft`: estimateSecondsLeft() after this run.
  virtual void onRunFinished(const DataEfficiencyRow&, int /*index*/, int /*total*/,
                             double /*secondsLeft*/) {}
};

struct DataEfficiencyResult {
  std::vector<int> perClass;  ///< the sizes run (runnablePerClass)
  std::vector<DataEfficiencyRow> rows;
  int totalRuns = 0;
  bool cancelled = false;
  double seconds = 0;
  int64_t valSamples = 0, testSamples = 0;
};

/// Runs the plan: for each n (ascending), each seed, each strategy, one training run of `base`
/// with the strategy's defaults (withStrategyDefaults) on the n-per-class subsample of the
/// training split, evaluated on the test split. The dataset needs a test split or a
/// testFraction > 0. A failed run throws (Error naming the run); a cancelled one ends the
/// experiment with the rows finished so far.
DataEfficiencyResult runDataEfficiency(const TrainConfig& base,
                                       std::shared_ptr<const Dataset> dataset,
                                       const DataEfficiencyPlan& plan, TrainerControl& control,
                                       DataEfficiencyObserver* observer = nullptr);

/// results.csv: n,strategy,seed,accuracy,macro_f1,seconds (one row per run).
std::string dataEfficiencyCsv(const std::vector<DataEfficiencyRow>& rows);

}  // namespace tlab::core
