#pragma once
// Learning-rate range test: train for a few hundred steps while the rate grows exponentially,
// record the (smoothed) loss, stop on divergence or NaN, and suggest the rate where the loss
// falls fastest. Runs synchronously (call from a worker thread); the model is thrown away.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dataset/Dataset.h"
#include "core/train/TrainConfig.h"

namespace tlab::core {

struct LrFinderOptions {
  double startLr = 1e-7, endLr = 1.0;
  int steps = 100;
  double smoothing = 0.9;      ///< exponential moving average of the loss (bias-corrected)
  double divergeFactor = 4.0;  ///< stop when the smoothed loss exceeds this times the best
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(int step, double lr, double loss)> progress;
};

struct LrFinderResult {
  std::vector<double> lrs, losses, smoothed;  ///< one entry per finished step (NaN steps dropped)
  double suggested = 0;
  std::string note;  ///< why it stopped, how the suggestion was made
};

/// Uses the config's backbone, head, first-phase freezing and optimiser on the train split.
LrFinderResult findLearningRate(const TrainConfig& config, std::shared_ptr<const Dataset> dataset,
                                const LrFinderOptions& options = {});

/// The suggestion from a recorded curve (exposed for tests): steepest descent of the smoothed
/// loss over log(lr), searched before the minimum; falls back to lr(min) / 10.
double suggestLearningRate(const std::vector<double>& lrs, const std::vector<double>& smoothed);

}  // namespace tlab::core
