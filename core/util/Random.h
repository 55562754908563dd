#pragma once
// Deterministic random numbers whose sequences are fixed by this file alone (std::shuffle and the
// std distributions differ between standard libraries), so splits and sample orders reproduce
// on every platform for a given seed.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tlab::core {

/// SplitMix64: tiny, fast, well-distributed; also used to derive independent sub-seeds.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform integer in [0, bound) (bound > 0), by rejection to avoid modulo bias.
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t v;
    do {
      v = next();
    } while (v >= limit);
    return v % bound;
  }
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

 private:
  uint64_t state_;
};

/// Mixes several values into one seed (order matters).
inline uint64_t mixSeed(uint64_t a, uint64_t b, uint64_t c = 0) {
  Rng r(a ^ (b * 0xD1B54A32D192ED03ULL) ^ (c * 0x8CB92BA72F3D8DD7ULL));
  r.next();
  return r.next();
}

/// Fisher-Yates shuffle driven by Rng.
template <typename T>
void shuffleInPlace(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace tlab::core
