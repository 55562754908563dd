#pragma once
// Run checkpoints: model, optimiser state, progress (epoch, step, history, best epoch, early
// stopping counter, queued edits), config. Each checkpoint is a folder written completely
// (every file fsync'ed) before the "latest" pointer is atomically replaced, so a kill -9 at any
// moment leaves the previous checkpoint intact and loadable.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/weights/StateDict.h"

namespace tlab::core {

struct CheckpointState {
  int epoch = 0;  ///< completed epochs
  int64_t step = 0;
  int bestEpoch = 0;
  double bestMetric = 0;
  int epochsWithoutImprovement = 0;
  nlohmann::json history = nlohmann::json::array();
  nlohmann::json extraFreezeRules = nlohmann::json::array();  ///< [{"pattern","frozen"}]
  double learningRateOverride = 0;                            ///< 0: none
  nlohmann::json config;
};

/// Writes runDir/checkpoints/epoch-NNNN/ and points runDir/checkpoints/latest at it; keeps the
/// previous checkpoint, removes older ones.
void saveCheckpoint(const std::filesystem::path& runDir, const CheckpointState& state,
                    const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                    const StateDict* best);

/// The folder `latest` points to, or nullopt when the run has no checkpoint. Throws FormatError
/// when the pointer or the state file is unreadable.
std::optional<std::filesystem::path> latestCheckpoint(const std::filesystem::path& runDir);
CheckpointState readCheckpointState(const std::filesystem::path& checkpointDir);
/// Loads model weights (must match completely), optimiser state and, if present, best weights.
void loadCheckpointTensors(const std::filesystem::path& checkpointDir, torch::nn::Module& model,
                           torch::optim::Optimizer& optimizer, StateDict* best,
                           torch::Device device = torch::kCPU);

}  // namespace tlab::core
