#pragma once
// The body of a training run, executed on the Trainer's thread (internal to core/train).
#include <filesystem>
#include <memory>

#include "core/train/Trainer.h"

namespace tlab::core {

struct SessionOutput {
  TrainResult result;
  ImageClassifier model;
};

/// Runs the whole training described by `config`; throws on failure (the Trainer catches).
SessionOutput runTrainingSession(const TrainConfig& config, std::shared_ptr<const Dataset> dataset,
                                 const std::filesystem::path& runDir, bool resume,
                                 TrainerControl& control, TrainerObserver* observer,
                                 const DistributedSpec& distributed = {});

}  // namespace tlab::core
