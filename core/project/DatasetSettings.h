#pragma once
// Where a project's dataset comes from and how it is split: a plain value (no LibTorch), so GUI
// headers can hold one. Part of the project file (see Project.h).
#include <cstdint>
#include <string>

#include "core/dataset/Readers.h"
#include "core/dataset/Split.h"

namespace tlab::core {

struct DatasetSettings {
  std::string path;                ///< absolute once loaded; empty: no dataset chosen yet
  std::string format = "auto";     ///< a datasetFormatName(): how `path` is read
  bool allowPathsOutside = false;  ///< CSV manifests: may name files outside their folder
  double valFraction = 0.1, testFraction = 0.1;
  uint64_t splitSeed = 42;
  bool keepPredefinedSplit = true;  ///< use the dataset's own train/val/test where it has one
};

/// How to read the project's dataset (format and path policy from its settings); throws
/// InvalidArgument for an unknown format name.
ReadOptions readOptions(const DatasetSettings& settings);
/// How the project's dataset is split (fractions, seed, keep or redo the source's split).
SplitSpec splitSpec(const DatasetSettings& settings);
/// Whether `a` and `b` read the same files the same way (path, format, path policy); the
/// split settings do not matter.
bool sameSource(const DatasetSettings& a, const DatasetSettings& b);

}  // namespace tlab::core
