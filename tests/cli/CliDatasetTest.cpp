// Runs the real transferlab-cli binary and checks its JSON and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/CliRunner.h"
#include "core/TestImages.h"

namespace {
using nlohmann::json;
using tlab::test::TempDir;

struct RunResult {
  int exitCode = -1;
  std::string out;
};

RunResult runCli(const std::string& args) {
  const auto [code, out] = tlab::test::runCli(args);
  return {code, out};
}

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CliDataset, InspectJsonListsClassesSplitsAndEveryBrokenFile) {
  TempDir dir;
  for (int i = 0; i < 5; ++i) {
    tlab::test::writeImage(dir / ("train/cat/" + std::to_string(i) + ".jpg"),
                           tlab::test::patternRgb(20, 20, i));
    tlab::test::writeImage(dir / ("train/dog/" + std::to_string(i) + ".png"),
                           tlab::test::patternRgb(20, 20, i));
  }
  tlab::test::writeImage(dir / "test/dog/t.png", tlab::test::patternRgb(20, 20));
  tlab::test::writeBytes(dir / "train/cat/empty.jpg", {});
  tlab::test::writeText(dir / "test/cat/fake.jpg", "text");
  const RunResult r = runCli("dataset inspect " + dir.path().string() + " --json");
  ASSERT_EQ(r.exitCode, 0) << r.out;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["format"], "folder");
  EXPECT_EQ(j["num_samples"], 11);
  EXPECT_EQ(j["classes"]["cat"], 5);
  EXPECT_EQ(j["classes"]["dog"], 6);
  EXPECT_EQ(j["splits"]["train"], 10);
  EXPECT_EQ(j["splits"]["test"], 1);
  ASSERT_EQ(j["skipped"].size(), 2u);
  for (const auto& s : j["skipped"]) {
    EXPECT_TRUE(s["path"].get<std::string>().find("empty.jpg") != std::string::npos ||
                s["path"].get<std::string>().find("fake.jpg") != std::string::npos);
    EXPECT_FALSE(s["reason"].get<std::string>().empty());
  }
}

TEST(CliDataset, UnusableDatasetExitsNonZeroWithTheReason) {
  TempDir dir;
  tlab::test::writeImage(dir / "only/a.png", tlab::test::patternRgb(8, 8));
  const RunResult r = runCli("dataset inspect " + dir.path().string() + " --json");
  EXPECT_EQ(r.exitCode, 2);
  const json j = json::parse(r.out);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_NE(j["errors"][0].get<std::string>().find("at least 2"), std::string::npos);
}

TEST(CliDataset, MissingPathIsAnErrorNotACrash) {
  EXPECT_EQ(runCli("dataset inspect /no/such/dataset").exitCode, 3);
  EXPECT_NE(runCli("dataset inspect").exitCode, 0);
}

TEST(CliDataset, SplitWritesAReproducibleManifest) {
  TempDir dir;
  for (int i = 0; i < 10; ++i) {
    tlab::test::writeImage(dir / ("a/" + std::to_string(i) + ".png"), tlab::test::patternRgb(8, 8));
    tlab::test::writeImage(dir / ("b/" + std::to_string(i) + ".png"), tlab::test::patternRgb(8, 8));
  }
  const std::string base =
      "dataset split " + dir.path().string() + " --val 0.2 --test 0.2 --seed 5 --json";
  const RunResult r1 = runCli(base + " --manifest " + (dir / "m1.csv").string());
  const RunResult r2 = runCli(base + " --manifest " + (dir / "m2.csv").string());
  ASSERT_EQ(r1.exitCode, 0) << r1.out;
  const json j = json::parse(r1.out);
  EXPECT_EQ(j["splits"]["train"], 12);
  EXPECT_EQ(j["splits"]["val"], 4);
  EXPECT_EQ(j["splits"]["test"], 4);
  // Same seed, same split (the second run also lists m1.csv as a stray file, nothing else).
  EXPECT_EQ(json::parse(r2.out)["split_classes"], j["split_classes"]);
  // The manifest reads back with the same split, and with relative paths inside the root.
  const RunResult back = runCli("dataset inspect " + (dir / "m1.csv").string() + " --json");
  ASSERT_EQ(back.exitCode, 0) << back.out;
  EXPECT_EQ(json::parse(back.out)["split_classes"], j["split_classes"]);
  EXPECT_TRUE(json::parse(back.out)["skipped"].empty());
  // Same seed: the same samples in the same parts; another seed: other samples.
  const RunResult other =
      runCli("dataset split " + dir.path().string() + " --val 0.2 --test 0.2 --seed 6 --manifest " +
             (dir / "m3.csv").string());
  ASSERT_EQ(other.exitCode, 0);
  EXPECT_EQ(readAll(dir / "m1.csv"), readAll(dir / "m2.csv"));
  EXPECT_NE(readAll(dir / "m1.csv"), readAll(dir / "m3.csv"));
  EXPECT_NE(readAll(dir / "m1.csv").find("\"a/0.png\",\"a\","), std::string::npos);
}

TEST(CliDataset, ExportFewShotHdf5) {
  TempDir dir;
  for (int i = 0; i < 6; ++i) {
    tlab::test::writeImage(dir / ("src/train/a/" + std::to_string(i) + ".png"),
                           tlab::test::patternRgb(8, 8));
    tlab::test::writeImage(dir / ("src/train/b/" + std::to_string(i) + ".png"),
                           tlab::test::patternRgb(8, 8));
  }
  tlab::test::writeImage(dir / "src/test/a/t.png", tlab::test::patternRgb(8, 8));
  tlab::test::writeImage(dir / "src/test/b/t.png", tlab::test::patternRgb(8, 8));
  const RunResult r =
      runCli("dataset export " + (dir / "src").string() + " --out " + (dir / "few.h5").string() +
             " --train-per-class 2 --size 4 --channels 1");
  ASSERT_EQ(r.exitCode, 0) << r.out;
  const json j =
      json::parse(runCli("dataset inspect " + (dir / "few.h5").string() + " --json").out);
  EXPECT_EQ(j["format"], "hdf5");
  EXPECT_EQ(j["splits"]["train"], 4);
  EXPECT_EQ(j["splits"]["test"], 2);
  EXPECT_EQ(j["classes"]["a"], 3);
}

}  // namespace
