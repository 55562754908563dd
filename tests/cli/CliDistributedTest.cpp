// transferlab-cli train across processes: equality with one process, a lost rank, restarts,
// and resuming a data-parallel checkpoint on one process. Real processes, real Gloo sockets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/CliRunner.h"
#include "cli/ShapesDataset.h"
#include "core/dist/Distributed.h"
#include "core/util/FileUtil.h"
#include "core/weights/StateDict.h"

namespace {
using nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string readAll(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A run whose result depends only on the samples each step sees: plain SGD, constant rate, no
// augmentation or dropout, deterministic kernels, final (not best) weights.
fs::path writeConfig(const tlab::test::TempDir& dir, const std::string& strategy,
                     const std::string& bnPolicy) {
  const json c{{"backbone", "small_cnn_fmnist"},
               {"strategy", strategy},
               {"optimizer", "sgd"},
               {"momentum", 0.9},
               {"lr", 0.02},
               {"backbone_lr_multiplier", 1.0},
               {"weight_decay", 0.0},
               {"schedule", "constant"},
               {"deterministic", true},
               // Exact equivalence holds in fp32; under bf16 (what `auto` picks on a CPU with
               // native bf16) a batch of 20 and two of 10 round differently (~1e-3).
               {"precision", "fp32"},
               {"augment", false},
               {"dropout", 0.0},
               {"bn_policy", bnPolicy},
               {"restore_best", false},
               {"workers", 1},
               {"seed", 5}};
  const fs::path p = dir / ("config-" + strategy + ".json");
  tlab::core::writeFileAtomic(p, c.dump());
  return p;
}

double largestDifference(const fs::path& a, const fs::path& b) {
  const auto x = tlab::core::readSafetensors(a / "model" / "model.safetensors");
  const auto y = tlab::core::readSafetensors(b / "model" / "model.safetensors");
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    EXPECT_EQ(x[i].first, y[i].first);
    if (!x[i].second.is_floating_point()) continue;
    worst = std::max(worst, (x[i].second - y[i].second).abs().max().item<double>());
  }
  return worst;
}

// 2 ranks x batch 10 against 1 rank x batch 20 on 120 training images (6 steps per epoch).
void expectSameWeights(const std::string& strategy, const std::string& bnPolicy) {
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const fs::path config = writeConfig(dir, strategy, bnPolicy);
  const std::string common = "train --dataset " + data.string() + " --config " + config.string() +
                             " --epochs 2 --threads-per-proc 1 ";
  const std::string env = "TLAB_CACHE_DIR=" + (dir / "cache" / "weights").string() + " ";
  const auto one =
      tlab::test::runCli(common + "--batch-size 20 --out " + (dir / "one").string(), env);
  ASSERT_EQ(one.first, 0) << one.second;
  const auto two =
      tlab::test::runCli(common + "--batch-size 10 --nproc 2 --out " + (dir / "two").string(), env);
  ASSERT_EQ(two.first, 0) << two.second;
  const double diff = largestDifference(dir / "one", dir / "two");
  std::cout << strategy << ": largest weight difference " << diff << "\n";
  EXPECT_LT(diff, 1e-5) << strategy;
  // The comparison can tell runs apart: one rank with the per-rank batch trains differently.
  const auto half =
      tlab::test::runCli(common + "--batch-size 10 --out " + (dir / "half").string(), env);
  ASSERT_EQ(half.first, 0) << half.second;
  EXPECT_GT(largestDifference(dir / "half", dir / "two"), 1e-4) << strategy;
  // Both runs evaluated every test sample exactly once.
  const json m1 = json::parse(readAll(dir / "one" / "metrics.json"));
  const json m2 = json::parse(readAll(dir / "two" / "metrics.json"));
  EXPECT_EQ(m1["test"]["count"], 30);
  EXPECT_EQ(m2["test"]["count"], 30);
  EXPECT_EQ(m2["world_size"], 2);
  EXPECT_GT(m2["allreduce_mb_per_step"].get<double>(), 0);
  EXPECT_FALSE(m1.contains("world_size"));
  EXPECT_NEAR(m1["test"]["accuracy"].get<double>(), m2["test"]["accuracy"].get<double>(), 1e-9);
}

TEST(CliDistributed, TwoRanksGiveTheWeightsOfOneRankWithTheDoubleBatch_SmallCnnBnFrozen) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  expectSameWeights("full", "always-frozen");
}

TEST(CliDistributed, TwoRanksGiveTheWeightsOfOneRankWithTheDoubleBatch_LinearProbeNoBatchNorm) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  expectSameWeights("linear-probe", "follow-freeze");  // the head alone, on gathered features
}

pid_t spawnShell(const std::string& command) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits for `pid` up to `limit`; the exit code, or -1 (still running: killed) / 128+signal.
int waitFor(pid_t pid, std::chrono::seconds limit) {
  const auto t0 = Clock::now();
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() - t0 > limit) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool waitUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto t0 = Clock::now();
  while (!done()) {
    if (Clock::now() - t0 > limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// 16-bit gradients on the wire: the same run as fp32 to the wire's precision, half the bytes.
TEST(CliDistributed, SixteenBitGradientsTrainAsFp32DoesWithHalfTheBytes) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const fs::path config = writeConfig(dir, "full", "always-frozen");
  const std::string common = "train --dataset " + data.string() + " --config " + config.string() +
                             " --epochs 2 --threads-per-proc 1 --batch-size 10 --nproc 2 ";
  const std::string env = "TLAB_CACHE_DIR=" + (dir / "cache" / "weights").string() + " ";
  std::map<std::string, json> metrics;
  for (const std::string wire : {"none", "fp16", "bf16"}) {
    const auto run = tlab::test::runCli(
        common + "--grad-compression " + wire + " --out " + (dir / wire).string(), env, true);
    ASSERT_EQ(run.first, 0) << run.second;
    metrics[wire] = json::parse(readAll(dir / wire / "metrics.json"));
    EXPECT_EQ(metrics[wire]["gradient_compression"], wire);
    if (wire != "none") {
      EXPECT_NE(run.second.find("gradients travel as " + wire), std::string::npos) << run.second;
      // (Within 16 bytes: each step also sums a few scalars, such as whether every rank goes on.)
      EXPECT_NEAR(metrics[wire]["allreduce_mb_per_step"].get<double>(),
                  metrics["none"]["allreduce_mb_per_step"].get<double>() / 2, 16e-6);
      // 12 steps of SGD from the same start: the weights stay within the wire's rounding.
      const double diff = largestDifference(dir / "none", dir / wire);
      std::cout << wire << ": largest weight difference from the fp32 wire " << diff << "\n";
      EXPECT_GT(diff, 0.0) << "the wire was not 16 bits";
      EXPECT_LT(diff, 5e-3);  // (measured: 7.7e-4 fp16, 5.6e-4 bf16)
      EXPECT_NEAR(metrics[wire]["test"]["accuracy"].get<double>(),
                  metrics["none"]["test"]["accuracy"].get<double>(), 0.07);  // 2 of 30
    }
  }
  const auto bad = tlab::test::runCli(common + "--grad-compression int8 --out x", env, true);
  EXPECT_NE(bad.first, 0);
  EXPECT_NE(bad.second.find("int8"), std::string::npos) << bad.second;
}

// Kills rank 1 of two mid-epoch; rank 0 must exit non-zero within 10 s naming it.
void expectKilledRankNamed(const std::string& extra) {
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const std::string store = (dir / "store").string();
  pid_t pids[2];
  for (int r = 0; r < 2; ++r) {
    pids[r] =
        spawnShell("exec " + std::string(TLAB_CLI_PATH) + " train --dataset " + data.string() +
                   " --strategy full --epochs 500 --batch-size 4 --threads-per-proc 1 "
                   "--world-size 2 --rank " +
                   std::to_string(r) + " --dist-store " + store + " " + extra + " --json --out " +
                   (dir / "run").string() + " > " + (dir / ("out" + std::to_string(r))).string() +
                   " 2> " + (dir / ("err" + std::to_string(r))).string());
  }
  ASSERT_TRUE(
      waitUntil([&] { return readAll(dir / "out0").find("\"batch\"") != std::string::npos; },
                std::chrono::seconds(120)))
      << readAll(dir / "err0") << readAll(dir / "err1");
  ASSERT_EQ(kill(pids[1], SIGKILL), 0);
  const auto t0 = Clock::now();
  const int code = waitFor(pids[0], std::chrono::seconds(30));
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  waitFor(pids[1], std::chrono::seconds(5));
  const std::string err = readAll(dir / "err0");
  std::cout << "rank 0 exited " << seconds << " s after rank 1 was killed: " << err;
  EXPECT_NE(code, 0) << err;
  EXPECT_NE(code, -1) << "rank 0 hung after rank 1 died";
  EXPECT_LT(seconds, 10.0) << err;
  EXPECT_NE(err.find("rank 1 of 2 was lost"), std::string::npos) << err;
}

TEST(CliDistributed, KillingOneRankMakesTheOtherExitNamingIt) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  expectKilledRankNamed("");
}

TEST(CliDistributed, KillingOneRankMakesTheOtherExitNamingIt_SixteenBitWire) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  expectKilledRankNamed("--grad-compression bf16");  // the engine's own ring on send/receive
}

// A free TCP port on 127.0.0.1 (bound, read, released).
int freePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(CliDistributed, RanksFromTorchrunsEnvironmentMeetAtTheMaster) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const std::string port = std::to_string(freePort());
  pid_t pids[2];
  for (int r = 0; r < 2; ++r) {
    // What torchrun --nproc-per-node 2 sets for each process (no rank flags on the command line).
    pids[r] =
        spawnShell("WORLD_SIZE=2 RANK=" + std::to_string(r) + " LOCAL_RANK=" + std::to_string(r) +
                   " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " exec " +
                   std::string(TLAB_CLI_PATH) + " train --dataset " + data.string() +
                   " --strategy full --epochs 1 --batch-size 8 --threads-per-proc 1 --out " +
                   (dir / ("run" + std::to_string(r))).string() + " > " +
                   (dir / ("out" + std::to_string(r))).string() + " 2>&1");
  }
  EXPECT_EQ(waitFor(pids[0], std::chrono::seconds(120)), 0) << readAll(dir / "out0");
  EXPECT_EQ(waitFor(pids[1], std::chrono::seconds(30)), 0) << readAll(dir / "out1");
  EXPECT_NE(readAll(dir / "out0").find("all 2 ranks joined"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "run0" / "metrics.json"));
  EXPECT_FALSE(fs::exists(dir / "run1")) << "only rank 0 writes";
}

TEST(CliDistributed, RanksThatSeeDifferentDataRefuseToTrain) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const fs::path fewer = dir / "fewer.h5";  // rank 1's copy lacks some training images
  const auto exported = tlab::test::runCli("dataset export " + data.string() +
                                           " --train-per-class 30 --out " + fewer.string());
  ASSERT_EQ(exported.first, 0) << exported.second;
  pid_t pids[2];
  for (int r = 0; r < 2; ++r) {
    pids[r] = spawnShell("exec " + std::string(TLAB_CLI_PATH) + " train --dataset " +
                         (r == 0 ? data : fewer).string() + " --epochs 1 --world-size 2 --rank " +
                         std::to_string(r) + " --dist-store " + (dir / "store").string() +
                         " --out " + (dir / "run").string() + " > " +
                         (dir / ("out" + std::to_string(r))).string() + " 2>&1");
  }
  EXPECT_EQ(waitFor(pids[0], std::chrono::seconds(120)), 3);
  EXPECT_EQ(waitFor(pids[1], std::chrono::seconds(30)), 3);
  EXPECT_NE(readAll(dir / "out0").find("rank 1 sees a different dataset than rank 0"),
            std::string::npos)
      << readAll(dir / "out0");
}

// The pid of the process whose command line holds the argument `arg` and the pair `flag value`.
pid_t findProcess(const std::string& arg, const std::string& flag, const std::string& value) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::vector<std::string> args;
    std::stringstream ss(readAll(e.path() / "cmdline"));
    for (std::string a; std::getline(ss, a, '\0');) args.push_back(a);
    if (std::find(args.begin(), args.end(), arg) == args.end()) continue;
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == flag && args[i + 1] == value) return pid_t(std::stoi(name));
  }
  return 0;
}

TEST(CliDistributed, WithMaxRestartsAKilledRankRestartsTheJobFromItsCheckpoint) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const fs::path run = dir / "run";
  const pid_t launcher =
      spawnShell("exec " + std::string(TLAB_CLI_PATH) + " train --dataset " + data.string() +
                 " --strategy full --epochs 12 --batch-size 4 --nproc 2 --threads-per-proc 1 "
                 "--max-restarts 1 --json --out " +
                 run.string() + " > " + (dir / "out").string() + " 2> " + (dir / "err").string());
  ASSERT_TRUE(waitUntil([&] { return fs::exists(run / "checkpoints"); }, std::chrono::seconds(120)))
      << readAll(dir / "err");
  const pid_t rank1 = findProcess(run.string(), "--rank", "1");
  ASSERT_GT(rank1, 0);
  ASSERT_EQ(kill(rank1, SIGKILL), 0);
  const int code = waitFor(launcher, std::chrono::seconds(300));
  const std::string err = readAll(dir / "err");
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(err.find("rank 1 of 2 was killed by signal 9"), std::string::npos) << err;
  EXPECT_NE(err.find("restarting every rank from the last checkpoint (restart 1 of 1)"),
            std::string::npos)
      << err;
  const json history = json::parse(readAll(run / "history.json"));
  EXPECT_EQ(history.size(), 12u);
  const json metrics = json::parse(readAll(run / "metrics.json"));
  EXPECT_GT(metrics["test"]["accuracy"].get<double>(), 0.5);
  EXPECT_NE(readAll(dir / "out").find("resuming after epoch"), std::string::npos);
}

TEST(CliDistributed, ACheckpointOfTwoRanksResumesOnOne) {
  if (!tlab::core::distributedBuilt()) GTEST_SKIP() << "built without distributed training";
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const std::string base = "train --dataset " + data.string() +
                           " --strategy full --batch-size 8 --threads-per-proc 1 --out " +
                           (dir / "run").string();
  const auto two = tlab::test::runCli(base + " --epochs 2 --nproc 2");
  ASSERT_EQ(two.first, 0) << two.second;
  const auto one = tlab::test::runCli(base + " --epochs 3 --resume --json");
  ASSERT_EQ(one.first, 0) << one.second;
  EXPECT_NE(one.second.find("resuming after epoch 2"), std::string::npos) << one.second;
  const json history = json::parse(readAll(dir / "run" / "history.json"));
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2]["epoch"], 3);
}

TEST(CliDistributed, ConflictingOrIncompleteOptionsAreRefused) {
  const auto a = tlab::test::runCli("train --dataset x --out y --world-size 2 --rank 0", "", true);
  EXPECT_EQ(a.first, 3);
  EXPECT_NE(a.second.find("needs --master HOST:PORT"), std::string::npos) << a.second;
  const auto b = tlab::test::runCli(
      "train --dataset x --out y --world-size 2 --rank 2 --master 127.0.0.1:1", "", true);
  EXPECT_EQ(b.first, 3);
  EXPECT_NE(b.second.find("outside a world of 2"), std::string::npos) << b.second;
  const auto c = tlab::test::runCli("train --dataset x --out y --nproc 2 --world-size 2", "", true);
  EXPECT_EQ(c.first, 3);
  EXPECT_NE(c.second.find("--nproc starts its own ranks"), std::string::npos) << c.second;
}

}  // namespace
