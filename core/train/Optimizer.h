#pragma once
// Builds the configured optimiser over parameter groups, one group per learning-rate multiplier
// (frozen parameters are simply not in any group). Shared by the trainer and the LR finder.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "core/model/FreezeSpec.h"
#include "core/train/TrainConfig.h"

namespace tlab::core {

/// Every group starts at `lr` times its multiplier; throws InvalidArgument when `groups` is
/// empty (everything frozen).
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig& config,
                                                       const std::vector<ParamGroup>& groups,
                                                       double lr);

}  // namespace tlab::core
