#include "core/util/Random.h"

#include <gtest/gtest.h>

#include <numeric>

namespace tlab::core {
namespace {

TEST(Random, SplitMix64MatchesItsPublishedSequence) {
  // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
  Rng r(0);
  EXPECT_EQ(r.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(r.next(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(r.next(), 0x06C45D188009454FULL);
}

TEST(Random, ShuffleIsAPermutationAndReproducible) {
  std::vector<int> a(100), b(100);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 0);
  Rng r1(7), r2(7);
  shuffleInPlace(a, r1);
  shuffleInPlace(b, r2);
  EXPECT_EQ(a, b);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  std::vector<int> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(a, identity);
}

TEST(Random, BelowStaysInRangeAndCoversIt) {
  Rng r(3);
  std::vector<int> hits(6, 0);
  for (int i = 0; i < 6000; ++i) ++hits[r.below(6)];
  for (int h : hits) EXPECT_GT(h, 800);
}

TEST(Random, MixSeedSeparatesInputs) {
  EXPECT_NE(mixSeed(1, 2, 3), mixSeed(1, 3, 2));
  EXPECT_EQ(mixSeed(1, 2, 3), mixSeed(1, 2, 3));
}

}  // namespace
}  // namespace tlab::core
