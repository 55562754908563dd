#pragma once
// Label remapping: rename classes, merge several into one, or drop a class entirely.
#include <map>
#include <string>

#include "core/dataset/Dataset.h"

namespace tlab::core {

struct LabelMap {
  /// old class name -> new class name; an empty new name drops the class's samples.
  /// Classes not mentioned keep their names.
  std::map<std::string, std::string> rename;
};

/// Applies `map` in place: class names are rebuilt (sorted as readers sort them), labels
/// rewritten, dropped samples removed. Returns the number of samples dropped. Throws
/// InvalidArgument when `map` names a class the dataset does not have.
size_t applyLabelMap(Dataset& dataset, const LabelMap& map);

}  // namespace tlab::core
