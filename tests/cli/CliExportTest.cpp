// `transferlab-cli export`: a verified bundle with model.onnx, what model.json records, the
// JSON report, and targets that must be refused without touching anything.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/CliRunner.h"
#include "cli/ShapesDataset.h"
#include "core/TestImages.h"
#include "core/util/FileUtil.h"

namespace {
using nlohmann::json;
namespace fs = std::filesystem;
using tlab::test::runCli;

// One short run on the shapes dataset, shared by the tests of this file.
class CliExport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tlab::test::TempDir;
    data_ = tlab::test::makeShapesDataset(*dir_);
    const auto [code, log] =
        runCli("train --dataset " + data_.string() +
               " --backbone small_cnn_fmnist --strategy linear-probe --epochs 1 --seed 3 --out " +
               (*dir_ / "run").string());
    ASSERT_EQ(code, 0) << log;
    trained_ = true;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(trained_); }
  static fs::path run() { return *dir_ / "run"; }

  static tlab::test::TempDir* dir_;
  static fs::path data_;
  static bool trained_;
};
tlab::test::TempDir* CliExport::dir_ = nullptr;
fs::path CliExport::data_;
bool CliExport::trained_ = false;

TEST_F(CliExport, TrainWritesAVerifiedBundleOnTheRunsOwnData) {
  const json meta = json::parse(tlab::core::readTextFile(run() / "model" / "model.json", 1 << 20));
  ASSERT_TRUE(meta.contains("verified"));
  EXPECT_EQ(meta["verified"]["samples"].get<int>(), 16);
  EXPECT_NE(meta["verified"]["inputs"].get<std::string>().find(data_.string()), std::string::npos);
  EXPECT_LE(
      meta["verified"]["files"]["model.safetensors"]["max_probability_difference"].get<double>(),
      1e-4);
}

TEST_F(CliExport, OnnxExportIsVerifiedAndReportedAsJson) {
  tlab::test::TempDir out;
  const auto [code, text] = runCli("export --run " + run().string() + " --out " +
                                   (out / "bundle").string() + " --onnx --json");
  ASSERT_EQ(code, 0) << text;
  const json r = json::parse(text);
  EXPECT_EQ(r["onnx"]["opset"].get<int>(), 17);
  EXPECT_GT(r["onnx"]["bytes"].get<int64_t>(), 100000);
  ASSERT_EQ(r["checks"].size(), 2u);
  for (const auto& c : r["checks"]) {
    EXPECT_TRUE(c["top1_identical"].get<bool>()) << c;
    EXPECT_LE(c["max_probability_difference"].get<double>(), 1e-4) << c;
    EXPECT_EQ(c["samples"].get<int>(), 16);
  }
  EXPECT_NE(r["inputs"].get<std::string>().find("samples of the"), std::string::npos) << r;
  const json meta = json::parse(tlab::core::readTextFile(out / "bundle" / "model.json", 1 << 20));
  EXPECT_TRUE(meta["verified"]["files"].contains("model.onnx"));
  EXPECT_TRUE(fs::exists(out / "bundle" / "model.onnx"));
  // `inspect` says which files the bundle holds and what its export verified.
  const auto [ic, itext] = runCli("inspect --json " + (out / "bundle").string());
  ASSERT_EQ(ic, 0) << itext;
  const json info = json::parse(itext);
  EXPECT_EQ(info["files"], json::array({"model.safetensors", "model.onnx"}));
  EXPECT_EQ(info["verified"]["samples"].get<int>(), 16);
}

TEST_F(CliExport, TargetsThatCannotHoldABundleAreRefusedWithoutChanges) {
  tlab::test::TempDir out;
  tlab::test::writeText(out / "file", "keep");
  const auto [c1, e1] =
      runCli("export --run " + run().string() + " --out " + (out / "file").string(), "", true);
  EXPECT_EQ(c1, 3);
  EXPECT_NE(e1.find("exists and is not a folder"), std::string::npos) << e1;
  EXPECT_EQ(tlab::core::readTextFile(out / "file", 100), "keep");
  fs::create_directories(out / "photos");
  tlab::test::writeText(out / "photos" / "a.jpg", "x");
  const auto [c2, e2] =
      runCli("export --run " + run().string() + " --out " + (out / "photos").string(), "", true);
  EXPECT_EQ(c2, 3);
  EXPECT_NE(e2.find("other files"), std::string::npos) << e2;
  // A disk that fills up (here: a 100 KiB file-size limit) leaves the old bundle as it was.
  ASSERT_EQ(runCli("export --run " + run().string() + " --out " + (out / "b").string()).first, 0);
  const std::string before = tlab::core::readTextFile(out / "b" / "model.json", 1 << 20);
  const auto [c3, e3] =
      runCli("export --onnx --run " + run().string() + " --out " + (out / "b").string(),
             "trap '' XFSZ; ulimit -f 100; ", true);
  EXPECT_EQ(c3, 3) << e3;
  EXPECT_NE(e3.find("nothing was changed"), std::string::npos) << e3;
  EXPECT_EQ(tlab::core::readTextFile(out / "b" / "model.json", 1 << 20), before);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(out.path())) ++entries;
  EXPECT_EQ(entries, 3) << "file, photos and b; no temporary folder left";
}

}  // namespace
