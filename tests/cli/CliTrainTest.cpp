// transferlab-cli train / evaluate / export / predict --model, and kill -9 during training.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "cli/CliRunner.h"
#include "cli/ShapesDataset.h"
#include "core/TestImages.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/train/Checkpoint.h"
#include "core/util/FileUtil.h"
#include "core/util/Random.h"
#include "core/weights/StateDict.h"

extern char** environ;

namespace {
using nlohmann::json;
namespace fs = std::filesystem;

auto run = [](const std::string& args) { return tlab::test::runCli(args); };

using tlab::test::makeShapesDataset;
auto shape = [](int cls, int seed) { return tlab::test::shapeImage(cls, seed); };
auto makeDataset = [](const tlab::test::TempDir& dir) { return makeShapesDataset(dir); };

TEST(CliTrain, TrainEvaluateExportPredictRoundTrip) {
  tlab::test::TempDir dir;
  const fs::path data = makeDataset(dir);
  const fs::path out = dir / "run";
  const auto [code, log] =
      run("train --dataset " + data.string() +
          " --backbone small_cnn_fmnist --strategy full "
          "--epochs 3 --batch-size 16 --lr 0.003 --backbone-lr 1 --seed 3 --json --out " +
          out.string());
  ASSERT_EQ(code, 0) << log;
  // One JSON event per line: status, log, batch and epoch events, and a final summary.
  int epochs = 0;
  json last;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    last = json::parse(line);
    epochs += last["event"] == "epoch";
  }
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(last["event"], "done");
  const json metrics = json::parse(std::ifstream(out / "metrics.json"));
  ASSERT_TRUE(metrics.contains("val"));
  ASSERT_TRUE(metrics.contains("test"));
  EXPECT_GT(metrics["test"]["accuracy"].get<double>(), 0.9);
  EXPECT_TRUE(metrics["test"].contains("macro_f1"));
  // Temperature scaling: the fit is applied only when it lowers the cross-validated NLL, and the
  // bundle carries what the run applies.
  const json& cal = metrics["calibration"];
  ASSERT_TRUE(cal.contains("cross_validated_nll")) << cal.dump();
  const json& cv = cal["cross_validated_nll"];
  EXPECT_DOUBLE_EQ(cal["temperature"].get<double>(),
                   cv["fitted"].get<double>() < cv["at_1"].get<double>()
                       ? cal["fitted_temperature"].get<double>()
                       : 1.0)
      << cal.dump();
  EXPECT_LE(cal["val_nll_after"].get<double>(), cal["val_nll_before"].get<double>() + 1e-12);
  const json bundle = json::parse(std::ifstream(out / "model/model.json"));
  EXPECT_DOUBLE_EQ(bundle["calibration"]["temperature"].get<double>(),
                   cal["temperature"].get<double>());
  for (const char* f :
       {"config.json", "history.csv", "history.json", "confusion_matrix.csv", "predictions.csv",
        "model/model.json", "model/model.safetensors", "checkpoints/latest"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
  const auto [ecode, eout] = run("evaluate --model " + (out / "model").string() + " --dataset " +
                                 data.string() + " --split test --json");
  ASSERT_EQ(ecode, 0) << eout;
  const json ev = json::parse(eout);
  EXPECT_DOUBLE_EQ(ev["accuracy"].get<double>(), metrics["test"]["accuracy"].get<double>());
  EXPECT_EQ(ev["classes"], json::array({"square", "horizontal", "vertical"}));
  EXPECT_EQ(ev["confusion_matrix"].size(), 3u);
  // Predict on a folder of PNGs with the bundle.
  fs::create_directories(dir / "img");
  for (int c = 0; c < 3; ++c)
    cv::imwrite((dir / ("img/" + std::to_string(c) + ".png")).string(), shape(c, 999 + c));
  const auto [pcode, pout] =
      run("predict --model " + (out / "model").string() + " --json " + (dir / "img").string());
  ASSERT_EQ(pcode, 0) << pout;
  const json pj = json::parse(pout);
  ASSERT_EQ(pj.size(), 3u);
  const char* names[] = {"square", "horizontal", "vertical"};
  for (int c = 0; c < 3; ++c) EXPECT_EQ(pj[c]["top"][0]["label"], names[c]);
  const auto [xcode, xout] =
      run("export --run " + out.string() + " --out " + (dir / "exported").string());
  EXPECT_EQ(xcode, 0) << xout;
  EXPECT_TRUE(fs::exists(dir / "exported/model.safetensors"));
}

// Found by scripts/kill-test: a kill after the last checkpoint but before the export, then
// --resume, exported the untrained network (the checkpoint was only loaded for an epoch to run).
TEST(CliTrain, ResumeAfterTheLastCheckpointExportsTheTrainedWeights) {
  tlab::test::TempDir dir;
  const fs::path data = makeDataset(dir);
  const std::string args = "train --dataset " + data.string() +
                           " --backbone small_cnn --strategy scratch --epochs 2 --batch-size 4 "
                           "--seed 5 --out " +
                           (dir / "run").string();
  ASSERT_EQ(run(args).first, 0);
  const std::string trained =
      tlab::core::readTextFile(dir / "run/model/model.safetensors", 1 << 24);
  // What a kill between the last checkpoint and the export leaves behind.
  fs::remove_all(dir / "run/model");
  fs::remove(dir / "run/metrics.json");
  const auto [code, out] = run(args + " --resume");
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(tlab::core::readTextFile(dir / "run/model/model.safetensors", 1 << 24), trained);
}

TEST(CliTrain, KillNineAtAnyMomentNeverCorruptsTheLastCheckpoint) {
  tlab::test::TempDir dir;
  const fs::path data = makeDataset(dir);
  const fs::path out = dir / "run";
  std::vector<std::string> args = {
      TLAB_CLI_PATH, "train", "--dataset", data.string(), "--backbone",   "small_cnn_fmnist",
      "--strategy",  "full",  "--epochs",  "40",          "--batch-size", "4",
      "--seed",      "5",     "--json",    "--out",       out.string()};
  tlab::core::Rng rng(123);
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<std::string> a = args;
    if (attempt > 0) a.push_back("--resume");
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    // Wait until a checkpoint exists, then kill at a random moment (mid-step or mid-write).
    for (int i = 0; i < 600 && !fs::exists(out / "checkpoints/latest"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng.below(700)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the run ended before the kill";
    const auto ckpt = tlab::core::latestCheckpoint(out);
    ASSERT_TRUE(ckpt.has_value()) << "attempt " << attempt;
    EXPECT_NO_THROW(tlab::core::readCheckpointState(*ckpt)) << ckpt->string();
    EXPECT_NO_THROW(tlab::core::readSafetensors(*ckpt / "model.safetensors")) << ckpt->string();
  }
  const auto [code, log] = run("train --dataset " + data.string() +
                               " --backbone small_cnn_fmnist --strategy full "
                               "--epochs 40 --batch-size 4 --seed 5 --json --resume --out " +
                               out.string());
  ASSERT_EQ(code, 0) << log;
  const json history = json::parse(std::ifstream(out / "history.json"));
  EXPECT_EQ(history.size(), 40u);
  EXPECT_TRUE(fs::exists(out / "metrics.json"));
}

}  // namespace
