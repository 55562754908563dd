// core/dist: the sharded sampler, the environment a launcher sets, and the collectives (ranks as
// threads of this process, meeting through a file store).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <numeric>
#include <thread>

#include "core/TestImages.h"
#include "core/dist/Distributed.h"
#include "core/train/DataParallel.h"

namespace {
using namespace tlab::core;

std::vector<size_t> iota(size_t n, size_t from = 0) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(Sharding, EveryRankGetsAnEqualShareAndEverySampleIsCoveredOnce) {
  for (int w : {1, 2, 3}) {
    for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(7), size_t(9), size_t(10)}) {
      // A permutation, not 0..n-1: the shard must follow its order.
      std::vector<size_t> perm = iota(n, 100);
      std::reverse(perm.begin(), perm.end());
      std::map<size_t, int> seen;
      size_t total = 0;
      for (int r = 0; r < w; ++r) {
        const auto s = trainingShard(perm, r, w);
        EXPECT_EQ(s.size(), (n + size_t(w) - 1) / size_t(w)) << "w=" << w << " n=" << n;
        for (size_t k = 0; k < s.size(); ++k) {
          EXPECT_EQ(s[k], perm[(k * size_t(w) + size_t(r)) % n]);  // interleaved, as PyTorch
          ++seen[s[k]];
        }
        total += s.size();
      }
      EXPECT_EQ(seen.size(), n) << "every sample at least once";
      size_t repeats = 0;
      for (const auto& [sample, count] : seen) repeats += size_t(count - 1);
      EXPECT_EQ(repeats, total - n);
      EXPECT_LE(repeats, size_t(w - 1)) << "at most W-1 padding repeats";
    }
  }
}

TEST(Sharding, EvaluationSharesCountEverySampleExactlyOnce) {
  for (int w : {1, 2, 3}) {
    for (size_t n : {size_t(0), size_t(1), size_t(5), size_t(11)}) {
      const auto all = iota(n, 7);
      std::vector<size_t> joined;
      for (int r = 0; r < w; ++r) {
        const auto s = evaluationShard(all, r, w);
        joined.insert(joined.end(), s.begin(), s.end());
      }
      std::sort(joined.begin(), joined.end());
      EXPECT_EQ(joined, all) << "w=" << w << " n=" << n;
    }
  }
  EXPECT_THROW(trainingShard({1, 2}, 2, 2), InvalidArgument);
}

TEST(Sharding, FirstSlurmHost) {
  EXPECT_EQ(firstSlurmHost("node07"), "node07");
  EXPECT_EQ(firstSlurmHost("gpu[03-05,9],cpu1"), "gpu03");
  EXPECT_EQ(firstSlurmHost("a,b"), "a");
  EXPECT_EQ(firstSlurmHost("rack1-n[8,10-12]"), "rack1-n8");
}

struct EnvGuard {
  std::vector<std::string> names;
  void set(const std::string& k, const std::string& v) {
    names.push_back(k);
    setenv(k.c_str(), v.c_str(), 1);
  }
  ~EnvGuard() {
    for (const auto& n : names) unsetenv(n.c_str());
  }
};

TEST(Sharding, SpecFromTorchrunAndSlurmEnvironments) {
  {
    EnvGuard e;
    e.set("WORLD_SIZE", "4");
    e.set("RANK", "3");
    e.set("LOCAL_RANK", "1");
    e.set("MASTER_ADDR", "10.1.2.3");
    e.set("MASTER_PORT", "29400");
    const auto s = distributedSpecFromEnvironment();
    EXPECT_EQ(s.worldSize, 4);
    EXPECT_EQ(s.rank, 3);
    EXPECT_EQ(s.localRank, 1);
    EXPECT_EQ(s.masterAddr, "10.1.2.3");
    EXPECT_EQ(s.masterPort, 29400);
  }
  {
    EnvGuard e;
    e.set("SLURM_NTASKS", "2");
    e.set("SLURM_PROCID", "1");
    e.set("SLURM_JOB_NODELIST", "cn[011-012]");
    e.set("SLURM_JOB_ID", "123456");
    const auto s = distributedSpecFromEnvironment();
    EXPECT_EQ(s.worldSize, 2);
    EXPECT_EQ(s.rank, 1);
    EXPECT_EQ(s.masterAddr, "cn011");
    EXPECT_EQ(s.masterPort, 20000 + 123456 % 20000);
  }
  {
    EnvGuard e;
    e.set("WORLD_SIZE", "2");
    e.set("RANK", "0");
    EXPECT_THROW(distributedSpecFromEnvironment(), InvalidArgument) << "no MASTER_ADDR";
  }
  EXPECT_EQ(distributedSpecFromEnvironment().worldSize, 1) << "nothing set: one process";
}

// Runs fn(rank) on `w` threads, each a rank of a group meeting through one file store.
void onRanks(int w, const std::function<void(const DistributedSpec&)>& fn, double timeout = 30) {
  tlab::test::TempDir dir;
  std::vector<std::future<void>> ranks;
  for (int r = 0; r < w; ++r) {
    DistributedSpec s;
    s.worldSize = w;
    s.rank = r;
    s.storeFile = (dir / "store").string();
    s.timeoutSeconds = timeout;
    s.joinSeconds = timeout;
    ranks.push_back(std::async(std::launch::async, [s, &fn] { fn(s); }));
  }
  for (auto& f : ranks) f.get();  // rethrows a rank's failure
}

TEST(Communicator, AllReduceBroadcastAndGatherAgreeAcrossRanks) {
  if (!distributedBuilt()) GTEST_SKIP() << "built without the distributed engine";
  for (int w : {2, 3}) {
    onRanks(w, [w](const DistributedSpec& s) {
      Communicator c(s);
      const float r = float(s.rank);
      // Two dtypes and a tiny bucket: several buckets, values back in their tensors.
      std::vector<torch::Tensor> t{torch::full({3, 2}, r), torch::full({5}, r + 1),
                                   torch::full({2}, int64_t(s.rank), torch::kLong)};
      c.allReduceMean({t[0], t[1]}, 16);
      const float mean = float(w - 1) / 2.f;
      EXPECT_TRUE(torch::allclose(t[0], torch::full({3, 2}, mean)));
      EXPECT_TRUE(torch::allclose(t[1], torch::full({5}, mean + 1)));
      c.allReduceSum({t[2]});
      EXPECT_EQ(t[2][0].item<int64_t>(), int64_t(w * (w - 1) / 2));
      EXPECT_GT(c.allReduceBytes(), 0);
      auto b = torch::full({4}, r * 10);
      c.broadcast({b}, 1);
      EXPECT_TRUE(torch::equal(b, torch::full({4}, 10.f)));
      // Interleaved dtypes, as BatchNorm's float statistics and int64 counters (grouped by
      // dtype into one bucket each): every tensor gets rank 0's values, in its own place.
      std::vector<torch::Tensor> mixed{
          torch::full({3}, r), torch::full({1}, int64_t(s.rank) + 7, torch::kLong),
          torch::full({2, 2}, r + 0.5f), torch::full({1}, int64_t(s.rank) * 3, torch::kLong),
          torch::full({4}, r - 1)};
      c.broadcast(mixed, 0);
      EXPECT_TRUE(torch::equal(mixed[0], torch::full({3}, 0.f)));
      EXPECT_EQ(mixed[1].item<int64_t>(), 7);
      EXPECT_TRUE(torch::equal(mixed[2], torch::full({2, 2}, 0.5f)));
      EXPECT_EQ(mixed[3].item<int64_t>(), 0);
      EXPECT_TRUE(torch::equal(mixed[4], torch::full({4}, -1.f)));
      // Uneven row counts: rank r contributes r + 1 rows of value r.
      const auto g = c.allGatherRows(torch::full({s.rank + 1, 2}, r));
      ASSERT_EQ(g.size(0), int64_t(w * (w + 1) / 2));
      int64_t row = 0;
      for (int q = 0; q < w; ++q)
        for (int k = 0; k <= q; ++k) EXPECT_EQ(g[row++][1].item<float>(), float(q));
      c.barrier();
    });
  }
}

TEST(Communicator, SixteenBitWireHalvesTheBytesAndKeepsTheMeanToItsPrecision) {
  if (!distributedBuilt()) GTEST_SKIP() << "built without the distributed engine";
  for (int w : {2, 3}) {
    for (GradientWire wire : {GradientWire::Fp16, GradientWire::Bf16}) {
      onRanks(w, [w, wire](const DistributedSpec& s) {
        Communicator c(s);
        // Gradient-like values over six decades, different on every rank; an odd length (the
        // last shard padded) and two buckets, each reduced twice (the kept wire buffers).
        torch::manual_seed(uint64_t(11 + s.rank));
        const auto scale = torch::pow(10.0, torch::linspace(-6, 0, 4001)).to(torch::kFloat);
        const std::vector<torch::Tensor> given{torch::randn({4001}) * scale,
                                               torch::randn({3, 7}) * 1e3};
        std::vector<torch::Tensor> exact{given[0].clone(), given[1].clone()};
        std::vector<torch::Tensor> size{given[0].abs(), given[1].abs()};
        c.allReduceMean(exact);
        c.allReduceMean(size);  // the mean magnitude of the shares: what the rounding scales with
        const double fp32Bytes = c.allReduceBytes() / 2;
        for (int round = 0; round < 2; ++round) {
          std::vector<torch::Tensor> mine{given[0].clone(), given[1].clone()};
          const double before = c.allReduceBytes();
          c.allReduceMean(mine, 8192, wire);
          EXPECT_NEAR(c.allReduceBytes() - before, fp32Bytes / 2, 1.0) << "half the bytes";
          EXPECT_EQ(mine[0].scalar_type(), torch::kFloat) << "gradients stay fp32";
          for (size_t k = 0; k < mine.size(); ++k) {
            // Two roundings (the share, the mean) of 2^-11 (fp16; steps of 6e-8 below 6e-5)
            // or 2^-8 (bf16).
            const auto err = (mine[k] - exact[k]).abs();
            const auto bound = wire == GradientWire::Fp16 ? 2e-3 * size[k] + 1e-7 : 1e-2 * size[k];
            EXPECT_TRUE((err <= bound).all().item<bool>())
                << kGradientWireNames.name(wire) << " w=" << w << " tensor " << k
                << ": worst error " << err.max().item<double>();
            EXPECT_FALSE(torch::equal(mine[k], exact[k])) << "16 bits on the wire, not fp32";
          }
          // Every rank ends with the same values.
          const auto gathered = c.allGatherRows(mine[0].reshape({1, -1}));
          for (int r = 1; r < w; ++r) EXPECT_TRUE(torch::equal(gathered[r], gathered[0]));
        }
      });
    }
  }
}

TEST(DataParallel, GatheredEvaluationCountsEverySampleOnceInTheSplitOrder) {
  if (!distributedBuilt()) GTEST_SKIP() << "built without the distributed engine";
  for (int w : {1, 2, 3}) {
    // 11 samples in a shuffled split order; rank 1 "fails to decode" sample 13.
    std::vector<size_t> split{13, 4, 8, 20, 1, 9, 30, 2, 5, 17, 11};
    onRanks(w, [&](const DistributedSpec& s) {
      DataParallel dp(s);
      std::vector<size_t> kept;
      for (size_t i : dp.inferenceShare(split))
        if (!(i == 13 && w > 1)) kept.push_back(i);
      std::vector<float> v;
      for (size_t i : kept) v.push_back(float(i) * 2);
      auto rows = torch::tensor(v).reshape({-1, 1});
      const auto all = dp.gatherRows(rows, kept, split);
      std::vector<size_t> expected = split;
      if (w > 1) expected.erase(expected.begin());
      EXPECT_EQ(kept, expected) << "w=" << w;
      ASSERT_EQ(all.size(0), int64_t(expected.size()));
      for (size_t k = 0; k < expected.size(); ++k)
        EXPECT_EQ(all[int64_t(k)][0].item<float>(), float(expected[k]) * 2);
    });
  }
}

TEST(Communicator, ALostRankIsNamedWithinSeconds) {
  if (!distributedBuilt()) GTEST_SKIP() << "built without the distributed engine";
  std::string message;
  double seconds = -1;
  onRanks(2, [&](const DistributedSpec& s) {
    Communicator c(s);
    auto t = torch::ones({1000});
    c.allReduceMean({t});
    if (s.rank == 1) return;  // leaves: its sockets close and its heartbeat stops
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto t0 = std::chrono::steady_clock::now();
    try {
      c.allReduceMean({t});
    } catch (const DistributedError& e) {
      message = e.what();
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_THROW(c.barrier(), DistributedError) << "the group stays failed";
  });
  EXPECT_NE(message.find("rank 1 of 2 was lost"), std::string::npos) << message;
  EXPECT_LT(seconds, 10.0) << message;
}

TEST(Communicator, ARendezvousThatNobodyJoinsTimesOutWithTheAddress) {
  if (!distributedBuilt()) GTEST_SKIP() << "built without the distributed engine";
  tlab::test::TempDir dir;
  DistributedSpec s;
  s.worldSize = 2;
  s.rank = 0;
  s.storeFile = (dir / "store").string();
  s.joinSeconds = 1;
  try {
    Communicator c(s);
    FAIL() << "joined a group of one";
  } catch (const DistributedError& e) {
    EXPECT_NE(std::string(e.what()).find("could not meet the others"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(s.storeFile), std::string::npos) << e.what();
  }
}

}  // namespace
