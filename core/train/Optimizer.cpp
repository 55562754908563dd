#include "core/train/Optimizer.h"

#include "core/Errors.h"

namespace tlab::core {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig& cfg,
                                                       const std::vector<ParamGroup>& in,
                                                       double lr) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (const auto& g : in) {
    const double groupLr = lr * g.lrMultiplier;
    std::unique_ptr<torch::optim::OptimizerOptions> o;
    switch (cfg.optimizer) {
      case OptimizerKind::Sgd:
        o = std::make_unique<torch::optim::SGDOptions>(
            torch::optim::SGDOptions(groupLr)
                .momentum(cfg.momentum)
                .nesterov(cfg.nesterov && cfg.momentum > 0)
                .weight_decay(cfg.weightDecay));
        break;
      case OptimizerKind::Adam:
        o = std::make_unique<torch::optim::AdamOptions>(
            torch::optim::AdamOptions(groupLr).weight_decay(cfg.weightDecay));
        break;
      case OptimizerKind::AdamW:
        o = std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(groupLr).weight_decay(cfg.weightDecay));
        break;
    }
    groups.emplace_back(g.params, std::move(o));
  }
  if (groups.empty()) throw InvalidArgument("nothing to train: every parameter is frozen");
  switch (cfg.optimizer) {
    case OptimizerKind::Sgd:
      return std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(lr));
    case OptimizerKind::Adam:
      return std::make_unique<torch::optim::Adam>(groups);
    case OptimizerKind::AdamW:
      break;
  }
  return std::make_unique<torch::optim::AdamW>(groups);
}

}  // namespace tlab::core
