#include "core/dataset/Split.h"

#include <cmath>

#include "core/Errors.h"
#include "core/util/Random.h"

namespace tlab::core {
namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// Moves round(fraction * base) samples of `pool` to `target`, keeping one for training.
void carve(std::vector<size_t>& pool, size_t base, double fraction, Split target, Dataset& ds) {
  size_t want = static_cast<size_t>(std::llround(fraction * double(base)));
  if (pool.size() <= 1) return;
  want = std::min(want, pool.size() - 1);
  for (size_t k = 0; k < want; ++k) {
    ds.samples[pool.back()].split = target;
    pool.pop_back();
  }
}

}  // namespace

void assignSplits(Dataset& ds, const SplitSpec& spec) {
  if (spec.valFraction < 0 || spec.testFraction < 0 ||
      spec.valFraction + spec.testFraction >= 1.0) {
    throw InvalidArgument("split fractions must be >= 0 and val + test < 1 (got val=" +
                          std::to_string(spec.valFraction) +
                          ", test=" + std::to_string(spec.testFraction) + ")");
  }
  const bool keep = spec.policy == SplitPolicy::KeepPredefined && ds.hasPredefinedSplit();
  const bool haveVal = keep && ds.splitCount(Split::Val) > 0;
  const bool haveTest = keep && ds.splitCount(Split::Test) > 0;
  // Training candidates per class, in source order; fractions are of that pool.
  std::vector<std::vector<size_t>> pools(ds.classNames.size());
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    Sample& s = ds.samples[i];
    if (s.label < 0 || size_t(s.label) >= pools.size()) continue;
    if (!keep || s.split == Split::None) s.split = Split::Train;
    if (s.split == Split::Train) pools[size_t(s.label)].push_back(i);
  }
  for (size_t c = 0; c < pools.size(); ++c) {
    auto& pool = pools[c];
    const size_t base = pool.size();
    Rng rng(mixSeed(spec.seed, fnv1a(ds.classNames[c])));
    shuffleInPlace(pool, rng);
    if (!haveTest) carve(pool, base, spec.testFraction, Split::Test, ds);
    if (!haveVal) carve(pool, base, spec.valFraction, Split::Val, ds);
  }
}

}  // namespace tlab::core
