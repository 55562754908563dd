#include "core/train/DataEfficiency.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "core/Errors.h"
#include "core/dataset/Split.h"
#include "core/train/TrainingSession.h"
#include "core/util/Random.h"

namespace tlab::core {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t nameHash(const std::string& s) {  // FNV-1a: the same on every platform
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// The dataset one run trains on: validation and test first, in their order (so their positions,
// and with them their feature-cache keys, are the same in every run), then the subsample.
std::shared_ptr<const Dataset> runDataset(const Dataset& split, const std::vector<size_t>& held,
                                          const std::vector<size_t>& subsample) {
  auto ds = std::make_shared<Dataset>();
  ds->format = split.format;
  ds->modality = split.modality;
  ds->source = split.source;
  ds->classNames = split.classNames;
  ds->store = split.store;
  ds->samples.reserve(held.size() + subsample.size());
  for (size_t i : held) ds->samples.push_back(split.samples[i]);
  for (size_t i : subsample) ds->samples.push_back(split.samples[i]);
  return ds;
}

TrainConfig configFor(const TrainConfig& base, const DataEfficiencyPlan& plan, Strategy strategy) {
  TrainConfig cfg = withStrategyDefaults(base, strategy);
  if (plan.epochs > 0) cfg.epochs = plan.epochs;
  return cfg;
}

int epochsFor(const TrainConfig& cfg, int64_t samples, int minSteps) {
  const int64_t batch = std::max<int64_t>(1, cfg.batchSize);
  const int64_t stepsPerEpoch = std::max<int64_t>(1, (samples + batch - 1) / batch);
  const int64_t needed = minSteps > 0 ? (minSteps + stepsPerEpoch - 1) / stepsPerEpoch : 0;
  return int(std::max<int64_t>(cfg.epochs, needed));
}

// Every run, in the order they run, known before the first starts (for the time left).
std::vector<DataEfficiencyRun> planRuns(const TrainConfig& base, const DataEfficiencyPlan& plan,
                                        const std::vector<int>& perClass,
                                        const std::vector<int64_t>& trainCounts) {
  std::vector<DataEfficiencyRun> runs;
  for (int n : perClass) {
    int64_t samples = 0;
    for (int64_t count : trainCounts) samples += std::min<int64_t>(count, n);
    for (int seed = 0; seed < plan.seeds; ++seed)
      for (Strategy strategy : plan.strategies)
        runs.push_back({n, strategy, seed, samples,
                        epochsFor(configFor(base, plan, strategy), samples, plan.minSteps)});
  }
  return runs;
}

TrainConfig runConfig(const TrainConfig& base, const DataEfficiencyPlan& plan,
                      const DataEfficiencyRun& run) {
  TrainConfig cfg = configFor(base, plan, run.strategy);
  cfg.epochs = run.epochs;
  cfg.seed = base.seed + uint64_t(run.seed);
  cfg.valFraction = 0;  // the shared split is already in place
  cfg.testFraction = 0;
  cfg.checkpointEvery = 0;
  return cfg;
}

// One run; nullopt when it was cancelled. Throws Error naming the run when it fails.
std::optional<TrainResult> trainOnce(const TrainConfig& cfg, std::shared_ptr<const Dataset> ds,
                                     const DataEfficiencyRun& run, TrainerControl& control,
                                     TrainerObserver* observer) {
  const std::string which = std::string("the ") + strategyName(run.strategy) +
                            " run at n=" + std::to_string(run.perClass) + " (seed " +
                            std::to_string(run.seed) + ")";
  SessionOutput out;
  try {
    out = runTrainingSession(cfg, std::move(ds), {}, false, control, observer);
  } catch (const std::exception& e) {
    throw Error("data-efficiency: " + which + " failed: " + e.what());
  }
  if (out.result.state == RunState::Cancelled || control.cancel.load()) return std::nullopt;
  if (!out.result.test) throw Error("data-efficiency: " + which + " has no test evaluation");
  return std::move(out.result);
}

double workOf(const DataEfficiencyRun& r, int64_t val, int64_t test) {
  return double(r.samples + val) * double(std::max(1, r.epochs)) + double(test);
}

}  // namespace

double estimateSecondsLeft(const std::vector<DataEfficiencyRow>& done,
                           const std::vector<DataEfficiencyRun>& remaining, int64_t valSamples,
                           int64_t testSamples) {
  if (done.empty()) return -1;
  std::map<int, std::pair<double, double>> spent;  // strategy -> (seconds, work)
  for (const auto& r : done) {
    auto& [seconds, work] = spent[int(r.run.strategy)];
    seconds += r.seconds;
    work += workOf(r.run, valSamples, testSamples);
  }
  double slowest = 0;
  for (const auto& [strategy, sw] : spent)
    if (sw.second > 0) slowest = std::max(slowest, sw.first / sw.second);
  double left = 0;
  for (const auto& r : remaining) {
    const auto it = spent.find(int(r.strategy));
    const double rate =
        it != spent.end() && it->second.second > 0 ? it->second.first / it->second.second : slowest;
    left += rate * workOf(r, valSamples, testSamples);
  }
  return left;
}

std::vector<size_t> nestedSubsample(const Dataset& dataset, const std::vector<size_t>& pool,
                                    int perClass, uint64_t seed) {
  std::vector<std::vector<size_t>> byClass(dataset.numClasses());
  for (size_t i : pool) {
    if (i >= dataset.size()) throw InvalidArgument("subsample: sample index out of range");
    const int32_t label = dataset.samples[i].label;
    if (label >= 0 && size_t(label) < byClass.size()) byClass[size_t(label)].push_back(i);
  }
  std::vector<size_t> out;
  for (size_t c = 0; c < byClass.size(); ++c) {
    auto& members = byClass[c];
    std::sort(members.begin(), members.end());  // the pool's order must not matter
    Rng rng(mixSeed(seed, nameHash(dataset.classNames[c]), 0x5eed));
    shuffleInPlace(members, rng);
    const size_t take = std::min(members.size(), size_t(std::max(0, perClass)));
    out.insert(out.end(), members.begin(), members.begin() + std::ptrdiff_t(take));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int> runnablePerClass(const std::vector<int>& requested, int64_t smallestClass) {
  if (requested.empty()) throw InvalidArgument("data-efficiency: no sample counts to run");
  std::vector<int> out;
  bool cut = false;
  for (int n : requested) {
    if (n < 1)
      throw InvalidArgument("data-efficiency: samples per class must be >= 1 (got " +
                            std::to_string(n) + ")");
    if (n <= smallestClass)
      out.push_back(n);
    else
      cut = true;
  }
  if (cut && smallestClass >= 1) out.push_back(int(smallestClass));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) throw InvalidArgument("data-efficiency: a class has no training samples");
  return out;
}

std::vector<CurvePoint> summarizeCurve(const std::vector<DataEfficiencyRow>& rows) {
  std::map<std::pair<int, int>, std::vector<double>> groups;  // (strategy, n) -> accuracies
  for (const auto& r : rows) groups[{int(r.run.strategy), r.run.perClass}].push_back(r.accuracy);
  std::vector<CurvePoint> out;
  for (const auto& [key, acc] : groups) {
    CurvePoint p;
    p.strategy = Strategy(key.first);
    p.perClass = key.second;
    p.runs = int(acc.size());
    double sum = 0;
    for (double a : acc) sum += a;
    p.mean = sum / double(acc.size());
    double ss = 0;
    for (double a : acc) ss += (a - p.mean) * (a - p.mean);
    p.stddev = acc.size() > 1 ? std::sqrt(ss / double(acc.size() - 1)) : 0.0;
    p.min = *std::min_element(acc.begin(), acc.end());
    p.max = *std::max_element(acc.begin(), acc.end());
    out.push_back(p);
  }
  return out;
}

DataEfficiencyResult runDataEfficiency(const TrainConfig& base,
                                       std::shared_ptr<const Dataset> dataset,
                                       const DataEfficiencyPlan& plan, TrainerControl& control,
                                       DataEfficiencyObserver* observer) {
  const auto t0 = Clock::now();
  if (plan.seeds < 1) throw InvalidArgument("data-efficiency: --seeds must be >= 1");
  if (plan.strategies.empty()) throw InvalidArgument("data-efficiency: no strategies to run");
  // The split every run shares, assigned as a run on the whole dataset would assign it.
  Dataset split = *dataset;
  const bool hasTest = split.splitCount(Split::Test) > 0;
  assignSplits(split, {base.valFraction, hasTest ? 0.0 : base.testFraction, base.seed,
                       SplitPolicy::KeepPredefined});
  split.validate();
  const auto val = split.indicesOf(Split::Val), test = split.indicesOf(Split::Test);
  const auto train = split.indicesOf(Split::Train);
  if (test.empty())
    throw InvalidArgument(dataset->source.string() +
                          ": the data-efficiency curve needs a test split (or a test fraction)");
  const auto counts = split.classCounts(Split::Train);
  const auto smallest = std::min_element(counts.begin(), counts.end());
  if (*smallest == 0)
    throw InvalidArgument(dataset->source.string() + ": class '" +
                          split.classNames[size_t(smallest - counts.begin())] +
                          "' has no training samples");
  DataEfficiencyResult result;
  result.perClass = runnablePerClass(plan.perClass, *smallest);
  result.valSamples = int64_t(val.size());
  result.testSamples = int64_t(test.size());
  result.totalRuns = int(result.perClass.size()) * plan.seeds * int(plan.strategies.size());
  std::vector<size_t> held = val;
  held.insert(held.end(), test.begin(), test.end());
  const auto planned = planRuns(base, plan, result.perClass, counts);

  int index = 0;
  for (int n : result.perClass) {
    for (int seed = 0; seed < plan.seeds; ++seed) {
      const auto subsample = nestedSubsample(split, train, n, mixSeed(base.seed, uint64_t(seed)));
      const auto ds = runDataset(split, held, subsample);
      for (size_t k = 0; k < plan.strategies.size(); ++k) {
        const DataEfficiencyRun& run = planned[size_t(index)];
        if (observer) observer->onRunStarted(run, index, result.totalRuns);
        const auto r0 = Clock::now();
        const auto trained = trainOnce(runConfig(base, plan, run), ds, run, control, observer);
        if (!trained) {
          result.cancelled = true;
          result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
          return result;
        }
        DataEfficiencyRow row{run, trained->test->accuracy, trained->test->macroF1,
                              std::chrono::duration<double>(Clock::now() - r0).count(),
                              trained->featureCache};
        result.rows.push_back(row);
        if (observer) {
          const std::vector<DataEfficiencyRun> rest(planned.begin() + index + 1, planned.end());
          observer->onRunFinished(
              row, index, result.totalRuns,
              estimateSecondsLeft(result.rows, rest, result.valSamples, result.testSamples));
        }
        ++index;
      }
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

std::string dataEfficiencyCsv(const std::vector<DataEfficiencyRow>& rows) {
  std::ostringstream csv;
  csv.precision(6);
  csv << "n,strategy,seed,accuracy,macro_f1,seconds\n";
  for (const auto& r : rows)
    csv << r.run.perClass << ',' << strategyName(r.run.strategy) << ',' << r.run.seed << ','
        << std::fixed << r.accuracy << ',' << r.macroF1 << ',' << r.seconds << std::defaultfloat
        << '\n';
  return csv.str();
}

}  // namespace tlab::core
