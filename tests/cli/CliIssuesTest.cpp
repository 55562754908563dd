// `transferlab-cli dataset issues` on a folder dataset with planted problems: labels flipped by
// moving files into the wrong class folder, and test images copied into the training set.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "cli/CliRunner.h"
#include "cli/ShapesDataset.h"
#include "core/Sanitizers.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using tlab::test::runCli;

const char* kClasses[3] = {"square", "horizontal", "vertical"};

struct Planted {
  std::set<std::string> flipped;  // file names (train) whose folder is the wrong class
  std::vector<std::pair<std::string, std::string>> copies;  // train copy, test original
};

// train/<class>/, test/<class>/: 30 + 10 shapes per class.
Planted makeFolder(const fs::path& root, int flips, int copies) {
  Planted p;
  for (int i = 0; i < 120; ++i) {
    const int cls = i % 3;
    const bool train = i < 90;
    int folder = cls;
    const std::string name = "img" + std::to_string(i) + ".png";
    if (train && i < 3 * flips) {  // the first `flips` training images go into the next class
      folder = (cls + 1) % 3;
      p.flipped.insert(name);
    }
    const fs::path dir = root / (train ? "train" : "test") / kClasses[folder];
    fs::create_directories(dir);
    cv::imwrite((dir / name).string(), tlab::test::shapeImage(cls, i));
    if (!train && int(p.copies.size()) < copies) {
      const fs::path copy = root / "train" / kClasses[cls] / ("copy-of-" + name);
      fs::copy_file(dir / name, copy);
      p.copies.emplace_back(copy.string(), (dir / name).string());
    }
  }
  return p;
}

std::string fileName(const json& j) { return fs::path(j.get<std::string>()).filename().string(); }

TEST(CliIssues, FindsFlippedLabelsAndTestImagesCopiedIntoTraining) {
  if (tlab::test::kAddressSanitizer) GTEST_SKIP() << "slow under ASan; core tests cover the maths";
  tlab::test::TempDir dir;
  // 3 of the 90 training images are in the wrong folder (1 per class), 2 test images copied.
  const Planted planted = makeFolder(dir.path(), 1, 2);
  const auto [code, out] = runCli("dataset issues " + dir.path().string() +
                                  " --backbone small_cnn_fmnist --folds 5 --no-cache --json");
  ASSERT_EQ(code, 0) << out;
  const json j = json::parse(out);
  EXPECT_EQ(j["backbone"], "small_cnn_fmnist");
  EXPECT_EQ(j["folds"], 5);
  EXPECT_GT(j["probe_accuracy"].get<double>(), 0.8);
  // Every flipped image is flagged, with its true class suggested.
  std::set<std::string> flagged;
  for (const auto& i : j["label_issues"]) {
    flagged.insert(fileName(i["path"]));
    if (planted.flipped.count(fileName(i["path"]))) {
      const int idx = std::stoi(fileName(i["path"]).substr(3));
      EXPECT_EQ(i["suggested"], kClasses[idx % 3]) << i.dump();
      EXPECT_EQ(i["given"], kClasses[(idx + 1) % 3]) << i.dump();
    }
  }
  for (const auto& f : planted.flipped) EXPECT_TRUE(flagged.count(f)) << f << " not flagged";
  // Precision: most of what is flagged was planted.
  EXPECT_LE(j["label_issues"].size(), 2 * planted.flipped.size()) << j["label_issues"].dump(1);
  // Both copies are found, paired with their originals in the test split, at similarity ~1.
  // (Other pairs may be reported too: these synthetic shapes differ only in background noise.)
  std::map<std::pair<std::string, std::string>, json> pairs;
  for (const auto& d : j["duplicates"])
    pairs[{d["path"].get<std::string>(), d["other_path"].get<std::string>()}] = d;
  for (const auto& c : planted.copies) {
    ASSERT_TRUE(pairs.count(c)) << c.first << " ~ " << c.second << " not found";
    EXPECT_EQ(pairs[c]["other_split"], "test");
    EXPECT_GT(pairs[c]["similarity"].get<double>(), 0.9999);
  }
  EXPECT_EQ(j["confident_joint"].size(), 3u);
  EXPECT_FALSE(j["test_accuracy_given"].is_null());

  // Text output names the findings.
  const auto [textCode, text] = runCli("dataset issues " + dir.path().string() +
                                       " --backbone small_cnn_fmnist --no-cache --top 3");
  ASSERT_EQ(textCode, 0);
  EXPECT_NE(text.find("likely label errors"), std::string::npos) << text;
  EXPECT_NE(text.find("near-duplicate pairs"), std::string::npos) << text;
}

TEST(CliIssues, SimulatedNoiseAndLeakageReportTheirOwnFigures) {
  if (tlab::test::kAddressSanitizer) GTEST_SKIP() << "slow under ASan; core tests cover the maths";
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const auto [code, out] =
      runCli("dataset issues " + data.string() +
             " --backbone small_cnn_fmnist --no-cache --json --seed 5 --simulate-noise 0.1 "
             "--simulate-leakage 4 --write-projects " +
             (dir.path() / "P").string());
  ASSERT_EQ(code, 0) << out;
  const json j = json::parse(out);
  const auto& n = j["simulated_noise"];
  // The four projects share one split; they differ only in their label edits.
  const auto edits = [&](const std::string& suffix) {
    std::ifstream in(dir.path() / ("P-" + suffix + ".tlproj"));
    const json p = json::parse(in);
    EXPECT_EQ(p["dataset"]["split_seed"], 5) << suffix;
    return p["label_edits"];
  };
  EXPECT_TRUE(edits("clean").empty());
  EXPECT_EQ(edits("noisy").size(), 15u);
  size_t excluded = 0;
  for (const auto& e : edits("excluded")) excluded += e["label"].get<std::string>().empty();
  EXPECT_EQ(excluded, n["flagged"].get<size_t>());
  // Every flagged sample carries the finder's suggestion; a true positive gets its label back.
  size_t edited = edits("fixed").size();
  EXPECT_GE(edited, 15u);
  EXPECT_LE(edited, 15u + n["flagged"].get<size_t>());
  EXPECT_EQ(n["flipped"], 15);  // 10% of 120 train + 30 val
  EXPECT_GE(n["recall"].get<double>(), 0.8) << n.dump();
  EXPECT_GE(n["precision"].get<double>(), 0.6) << n.dump();
  EXPECT_GT(n["test_accuracy_clean"].get<double>(), 0.8) << n.dump();
  EXPECT_GE(n["test_accuracy_fixed"].get<double>(), n["test_accuracy_noisy"].get<double>() - 0.05)
      << n.dump();
  EXPECT_EQ(j["simulated_leakage"]["copied"], 4);
  EXPECT_EQ(j["simulated_leakage"]["found"], 4) << j["simulated_leakage"].dump();
}

TEST(CliIssues, BadInputIsAClearError) {
  tlab::test::TempDir dir;
  const auto [code, out] = runCli(
      "dataset issues " + (dir / "missing").string() + " --backbone small_cnn_fmnist", "", true);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("missing"), std::string::npos) << out;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const auto [c2, o2] =
      runCli("dataset issues " + data.string() + " --backbone no_such_backbone", "", true);
  EXPECT_NE(c2, 0);
  EXPECT_NE(o2.find("no_such_backbone"), std::string::npos) << o2;
}

}  // namespace
