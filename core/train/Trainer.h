#pragma once
// The background trainer. One long-lived thread per run; pause, resume and cancel are atomics
// checked between batches; learning-rate and freeze edits are queued commands applied between
// steps (the caller never touches the live model). Reports through TrainerObserver. An exception
// never escapes the thread: it ends the run with a Failed status and the message.
//
// Threading: construct, start() and control from one thread (e.g. the GUI's); the observer is
// called on the trainer thread. The destructor cancels and joins.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/dataset/Dataset.h"
#include "core/dist/Distributed.h"
#include "core/model/ImageClassifier.h"
#include "core/train/Calibration.h"
#include "core/train/Metrics.h"
#include "core/train/ModelBundle.h"
#include "core/train/TrainConfig.h"
#include "core/train/TrainerEvents.h"

namespace tlab::core {

/// Whether a run's frozen-backbone features came from the feature cache.
enum class FeatureCacheUse { Off, Hit, Miss };
inline constexpr auto kFeatureCacheUseNames =
    makeNameTable(std::pair{FeatureCacheUse::Off, "off"}, std::pair{FeatureCacheUse::Hit, "hit"},
                  std::pair{FeatureCacheUse::Miss, "miss"});

struct TrainResult {
  std::vector<EpochMetrics> history;
  int bestEpoch = 0;
  std::optional<EvaluationResult> val, test;
  RunState state = RunState::Finished;
  std::string error;
  double seconds = 0;
  FeatureCacheUse featureCache = FeatureCacheUse::Off;
  size_t truncatedTexts = 0;  ///< text datasets: samples cut to the maximum length
  int resumedFromEpoch = 0;
  std::vector<std::string> classNames;
  Preprocess preprocess;
  std::string architecture;
  int worldSize = 1;                               ///< ranks that trained together (data-parallel)
  int64_t steps = 0;                               ///< optimisation steps this rank took
  double allReduceSeconds = 0;                     ///< time this rank spent averaging gradients
  double allReduceBytes = 0;                       ///< gradient bytes it all-reduced
  GradientWire gradientWire = GradientWire::Fp32;  ///< how the gradients travelled
  /// Temperature scaling fitted on the validation split at the end (the bundle keeps it).
  CalibrationSummary calibration;
};

/// What the bundle of a run's model records (GUI and CLI export alike).
ModelBundleInfo bundleInfo(const TrainResult& result, const TrainConfig& config);

/// Shared between the Trainer (controller side) and the training loop (thread side).
struct TrainerControl {
  std::atomic<bool> cancel{false}, pause{false};
  std::mutex mutex;
  std::condition_variable wake;
  struct Command {
    enum class Kind { SetLearningRate, SetFrozen } kind;
    double value = 0;
    std::string path;
    bool frozen = false;
  };
  std::vector<Command> commands;  ///< guarded by mutex
};

class Trainer {
 public:
  /// `runDir` receives checkpoints (created if missing); empty: no checkpoints.
  Trainer(TrainConfig config, std::shared_ptr<const Dataset> dataset, std::filesystem::path runDir,
          TrainerObserver* observer = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Before start(): train as one rank of a data-parallel group. Every rank runs a Trainer with
  /// the same config and dataset; only rank 0 writes checkpoints (the others read them on resume).
  void setDistributed(const DistributedSpec& spec) { distributed_ = spec; }

  /// Starts the thread; with `resume`, continues from runDir's last checkpoint.
  void start(bool resume = false);
  void pause();
  void resume();
  void cancel();
  /// Blocks until the run ends.
  void join();
  bool isRunning() const { return running_.load(); }

  /// Queued; applied before the next step.
  void setLearningRate(double lr);
  void setFrozen(const std::string& modulePath, bool frozen);

  /// Valid after join(): history, metrics, and the trained model (best weights if configured).
  const TrainResult& result() const { return result_; }
  ImageClassifier model() const { return model_; }

 private:
  TrainConfig config_;
  std::shared_ptr<const Dataset> dataset_;
  std::filesystem::path runDir_;
  TrainerObserver* observer_;
  DistributedSpec distributed_;
  TrainerControl control_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  TrainResult result_;
  ImageClassifier model_;
};

}  // namespace tlab::core
