#pragma once
// What the trainer reports, as small value types, through an observer called on the trainer
// thread. Observers must return quickly and must not call back into the Trainer; a UI adapter
// re-emits these as queued signals.
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/util/EnumNames.h"

namespace tlab::core {

struct BatchMetrics {
  int epoch = 0;            ///< 1-based, across phases
  int64_t step = 0;         ///< global optimisation step, 1-based
  int64_t stepInEpoch = 0;  ///< 1-based
  int64_t stepsPerEpoch = 0;
  double loss = 0, accuracy = 0, learningRate = 0, imagesPerSecond = 0;
};

struct EpochMetrics {
  int epoch = 0, epochs = 0;
  std::string phase;  ///< "linear-probe", "fine-tune", ...
  double trainLoss = 0, trainAccuracy = 0;
  double valLoss = 0, valAccuracy = 0;
  double seconds = 0;
  double learningRate = 0;  ///< at the end of the epoch
  bool improved = false;    ///< best validation metric so far
};

/// Epoch records as stored in checkpoints and project files (keys: epoch, epochs, phase,
/// train_loss, train_accuracy, val_loss, val_accuracy, seconds, lr, improved). Reading throws
/// nlohmann::json::exception on a missing key or a wrong type.
nlohmann::json toJson(const EpochMetrics& m);
/// `source` names the file the entry came from in errors.
EpochMetrics epochMetricsFromJson(const nlohmann::json& j, const std::string& source);

enum class RunState { Started, Paused, Resumed, Finished, Cancelled, Failed };
inline constexpr auto kRunStateNames = makeNameTable(
    std::pair{RunState::Started, "started"}, std::pair{RunState::Paused, "paused"},
    std::pair{RunState::Resumed, "resumed"}, std::pair{RunState::Finished, "finished"},
    std::pair{RunState::Cancelled, "cancelled"}, std::pair{RunState::Failed, "failed"});
const char* runStateName(RunState state);

/// A stretch of a run that is not optimisation steps: extracting the frozen backbone's features
/// for the feature cache, evaluating the validation or test split. Reported when it starts, at
/// most every 0.2 s while it runs, and when it ends (done == total).
struct TaskProgress {
  std::string task;  ///< what it is doing, e.g. "extracting features (train split)"
  int64_t done = 0, total = 0;
  double seconds = 0;  ///< since the task started
  /// Remaining seconds at the rate so far; -1 until something is done.
  double etaSeconds() const {
    return done > 0 ? seconds * double(total - done) / double(done) : -1;
  }
};

struct StatusEvent {
  RunState state = RunState::Started;
  std::string message;
};

class TrainerObserver {
 public:
  virtual ~TrainerObserver() = default;
  virtual void onStatus(const StatusEvent&) {}
  virtual void onBatch(const BatchMetrics&) {}
  virtual void onEpoch(const EpochMetrics&) {}
  virtual void onLog(const std::string&) {}
  virtual void onTask(const TaskProgress&) {}
};

}  // namespace tlab::core
