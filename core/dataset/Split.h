#pragma once
// Stratified, seeded train/val/test split. Each class is shuffled with its own stream, derived
// from the seed and the class *name*, so adding or renaming another class never moves samples
// of this one, and the same seed gives the same split on every machine.
#include <cstdint>

#include "core/dataset/Dataset.h"

namespace tlab::core {

enum class SplitPolicy {
  KeepPredefined,  ///< keep train/val/test from the source; only fill what is missing
  Resplit          ///< ignore the source's split and split everything anew
};

struct SplitSpec {
  double valFraction = 0.1;
  double testFraction = 0.1;
  uint64_t seed = 42;
  SplitPolicy policy = SplitPolicy::KeepPredefined;
};

/// Assigns Sample::split in place. With KeepPredefined, samples without a split count as train;
/// a missing val (or test) part is carved out of train per class. Every class with at least one
/// sample keeps at least one training sample. Throws InvalidArgument for bad fractions.
void assignSplits(Dataset& dataset, const SplitSpec& spec);

}  // namespace tlab::core
