#include "core/dataset/LabelMap.h"

#include <algorithm>

#include "core/Errors.h"

namespace tlab::core {

size_t applyLabelMap(Dataset& ds, const LabelMap& map) {
  for (const auto& [from, to] : map.rename) {
    if (std::find(ds.classNames.begin(), ds.classNames.end(), from) == ds.classNames.end()) {
      throw InvalidArgument(ds.source.string() + ": label map names unknown class '" + from + "'");
    }
  }
  std::vector<std::string> target(ds.classNames.size());  // old index -> new name ("" = drop)
  std::vector<std::string> kept;
  for (size_t c = 0; c < ds.classNames.size(); ++c) {
    const auto it = map.rename.find(ds.classNames[c]);
    target[c] = it == map.rename.end() ? ds.classNames[c] : it->second;
    if (!target[c].empty()) kept.push_back(target[c]);
  }
  std::vector<std::string> names = sortedClassNames(kept);
  std::vector<int32_t> newIndex(ds.classNames.size(), -1);
  for (size_t c = 0; c < target.size(); ++c) {
    if (target[c].empty()) continue;
    newIndex[c] = int32_t(std::find(names.begin(), names.end(), target[c]) - names.begin());
  }
  const size_t before = ds.samples.size();
  std::vector<Sample> out;
  out.reserve(before);
  for (auto& s : ds.samples) {
    if (s.label < 0 || newIndex[size_t(s.label)] < 0) continue;
    s.label = newIndex[size_t(s.label)];
    out.push_back(std::move(s));
  }
  ds.samples = std::move(out);
  ds.classNames = std::move(names);
  return before - ds.samples.size();
}

}  // namespace tlab::core
