#include "core/project/DatasetSettings.h"

namespace tlab::core {

ReadOptions readOptions(const DatasetSettings& settings) {
  ReadOptions o;
  o.format = parseDatasetFormat(settings.format);
  o.pathPolicy =
      settings.allowPathsOutside ? PathPolicy::AllowOutsideRoot : PathPolicy::StayInsideRoot;
  return o;
}

SplitSpec splitSpec(const DatasetSettings& settings) {
  SplitSpec spec;
  spec.valFraction = settings.valFraction;
  spec.testFraction = settings.testFraction;
  spec.seed = settings.splitSeed;
  spec.policy = settings.keepPredefinedSplit ? SplitPolicy::KeepPredefined : SplitPolicy::Resplit;
  return spec;
}

bool sameSource(const DatasetSettings& a, const DatasetSettings& b) {
  return a.path == b.path && a.format == b.format && a.allowPathsOutside == b.allowPathsOutside;
}

}  // namespace tlab::core
