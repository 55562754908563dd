#pragma once
// What to train: freeze rules, the BatchNorm policy and per-group learning-rate multipliers.
// A FreezeSpec is a plain value the GUI edits; applyFreezeSpec() turns it into requires_grad
// flags, and setTrainingMode() into BatchNorm train/eval modes. "Frozen" means: requires_grad
// off, BatchNorm statistics frozen (per policy), and no optimizer state (trainableParameters()
// leaves it out).
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/util/EnumNames.h"

namespace tlab::core {
class ImageClassifierImpl;
struct LayerNode;

enum class BatchNormPolicy {
  FollowFreeze,  ///< a frozen BatchNorm keeps its running statistics (the usual choice)
  AlwaysTrain,   ///< statistics update even where weights are frozen
  AlwaysFrozen   ///< statistics never update (small batches, fine-tuning on little data)
};
inline constexpr auto kBatchNormPolicyNames =
    makeNameTable(std::pair{BatchNormPolicy::FollowFreeze, "follow-freeze"},
                  std::pair{BatchNormPolicy::AlwaysTrain, "always-train"},
                  std::pair{BatchNormPolicy::AlwaysFrozen, "always-frozen"});
const char* batchNormPolicyName(BatchNormPolicy policy);

struct FreezeRule {
  std::string pattern;  ///< module path ("layer3", "layer3.0.conv1") or a glob ("*.bn*")
  bool frozen = true;
};

struct LrRule {
  std::string pattern;
  double multiplier = 1.0;
};

struct FreezeSpec {
  std::vector<FreezeRule> rules;  ///< applied in order; the last matching rule wins
  BatchNormPolicy batchNorm = BatchNormPolicy::FollowFreeze;
  std::vector<LrRule> lrRules;  ///< the last matching rule wins; default multiplier 1

  /// Everything frozen except the head (linear probe).
  static FreezeSpec backboneFrozen();
  /// Backbone frozen except its last `n` stages; the head always trains.
  static FreezeSpec lastStagesTrainable(const ImageClassifierImpl& net, int n);
  /// Nothing frozen.
  static FreezeSpec allTrainable() { return {}; }

  bool isFrozen(const std::string& parameterPath, const std::string& headName) const;
  double lrMultiplier(const std::string& parameterPath) const;
};

/// True when `path` is `pattern`, lies below it ("layer1.0.conv1" under "layer1"), or matches it
/// as a glob.
bool pathMatches(const std::string& pattern, const std::string& path);

/// Sets requires_grad on every parameter of `net` from `spec`.
void applyFreezeSpec(ImageClassifierImpl& net, const FreezeSpec& spec);
/// net.train(), then BatchNorm layers whose statistics must not move go back to eval().
void setTrainingMode(ImageClassifierImpl& net, const FreezeSpec& spec);
/// Fills the tree's trainable counts, BatchNorm state and LR multipliers from `spec`.
void annotateLayerTree(LayerNode& root, const ImageClassifierImpl& net, const FreezeSpec& spec);

/// Trainable parameters grouped by learning-rate multiplier (frozen ones are left out, so the
/// optimizer holds no state for them).
struct ParamGroup {
  double lrMultiplier = 1.0;
  std::vector<torch::Tensor> params;
};
std::vector<ParamGroup> trainableParameterGroups(ImageClassifierImpl& net, const FreezeSpec& spec);

/// Gradual unfreezing: stage k of the backbone (counted from the end) unfreezes at epoch
/// `firstEpoch + k * epochsPerStage`. Returns the spec in force at `epoch`.
FreezeSpec gradualUnfreezeSpec(const ImageClassifierImpl& net, int epoch, int firstEpoch,
                               int epochsPerStage,
                               BatchNormPolicy policy = BatchNormPolicy::FollowFreeze);

}  // namespace tlab::core
