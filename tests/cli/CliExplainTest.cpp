// `transferlab-cli explain` end to end: trains on generated images where only a small bright
// shape at a random position decides the class, then checks that the Grad-CAM peak reported in
// the image's own pixels falls inside that shape (and a wrong class's does not), that overlays
// and explain.json are written, and that bad requests fail with a clear message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/CliRunner.h"
#include "core/Sanitizers.h"
#include "core/TestImages.h"
#include "core/explain/PointingData.h"

using nlohmann::json;
namespace fs = std::filesystem;
using tlab::test::runCli;

namespace {

constexpr int kSide = 64, kShape = 12, kMargin = 6;

// data/{train,val,test}/{square,plus,ring}/N.png; the test images' boxes by file path.
class CliExplain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tlab::test::TempDir;
    boxes_ = new std::map<std::string, std::pair<cv::Rect, int>>;
    tlab::core::Rng rng(11);
    const std::pair<const char*, int> splits[] = {{"train", 450}, {"val", 60}, {"test", 60}};
    for (const auto& [split, count] : splits) {
      for (int i = 0; i < count; ++i) {
        const auto s = tlab::test::makeShapeImage(rng, kSide, kShape, kMargin);
        const fs::path p = *dir_ / "data" / split / tlab::test::shapeNames()[size_t(s.label)] /
                           (std::to_string(i) + ".png");
        fs::create_directories(p.parent_path());
        tlab::test::writeImage(p, s.rgb);
        if (std::string(split) == "test") (*boxes_)[p.string()] = {s.box, s.label};
      }
    }
    const auto [code, log] =
        runCli("train --dataset " + (*dir_ / "data").string() +
                   " --backbone small_cnn --strategy scratch --epochs 8 --image-size 64 --seed 1"
                   " --out " +
                   (*dir_ / "run").string(),
               "", true);
    ASSERT_EQ(code, 0) << log;
    trained_ = true;
  }
  static void TearDownTestSuite() {
    delete boxes_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(trained_); }

  /// Fraction of explained test images whose peak lies inside the shape's box.
  static double pointingRate(const json& items, int* explained = nullptr) {
    int inside = 0, n = 0;
    for (const auto& item : items) {
      const auto it = boxes_->find(item["path"].get<std::string>());
      if (it == boxes_->end() || item.contains("error")) continue;
      ++n;
      if (item["peak"].is_null()) continue;
      const cv::Point peak(item["peak"][0].get<int>(), item["peak"][1].get<int>());
      inside += it->second.first.contains(peak);
    }
    if (explained) *explained = n;
    return n ? double(inside) / n : 0.0;
  }

  static tlab::test::TempDir* dir_;
  static std::map<std::string, std::pair<cv::Rect, int>>* boxes_;
  static bool trained_;
};
tlab::test::TempDir* CliExplain::dir_ = nullptr;
std::map<std::string, std::pair<cv::Rect, int>>* CliExplain::boxes_ = nullptr;
bool CliExplain::trained_ = false;

}  // namespace

TEST_F(CliExplain, GradCamPeakFallsInsideTheShape) {
  const fs::path out = *dir_ / "explained";
  const auto [code, stdoutText] =
      runCli("explain --model " + (*dir_ / "run/model").string() + " " +
             (*dir_ / "data/test").string() + " --out " + out.string() + " --json");
  ASSERT_EQ(code, 0) << stdoutText;
  const json report = json::parse(stdoutText);
  ASSERT_EQ(report["items"].size(), 60u);
  EXPECT_EQ(json::parse(std::ifstream(out / "explain.json")), report);
  int n = 0;
  const double rate = pointingRate(report["items"], &n);
  EXPECT_EQ(n, 60);
  const json metrics = json::parse(std::ifstream(*dir_ / "run/metrics.json"));
  std::printf("explain CLI pointing (small_cnn, 64 px, 60 test images, test accuracy %.2f): %.2f\n",
              metrics["test"]["accuracy"].get<double>(), rate);
  EXPECT_GE(rate, 0.9);
  for (const auto& item : report["items"]) {
    EXPECT_EQ(item["method"], "gradcam");
    EXPECT_EQ(item["layer"], "block3");
    EXPECT_EQ(item["class"], item["predicted"]);
    const cv::Mat overlay = cv::imread((out / item["overlay"].get<std::string>()).string());
    ASSERT_FALSE(overlay.empty());
    EXPECT_EQ(overlay.cols, kSide);
    EXPECT_EQ(overlay.rows, kSide);
  }
}

TEST_F(CliExplain, AWrongClassDoesNotPointAtTheShape) {
  // Explain "ring" for the squares and pluses: its evidence is not where their shape is.
  std::string inputs;
  for (const auto& [path, box] : *boxes_)
    if (box.second != 2) inputs += " " + path;
  const auto [code, out] = runCli("explain --model " + (*dir_ / "run/model").string() + inputs +
                                  " --class ring --out " + (*dir_ / "wrong").string() + " --json");
  ASSERT_EQ(code, 0) << out;
  const json report = json::parse(out);
  for (const auto& item : report["items"]) EXPECT_EQ(item["class"], "ring");
  const double rate = pointingRate(report["items"]);
  std::printf("explain CLI, a wrong class's peak inside the shape: %.2f\n", rate);
  EXPECT_LT(rate, 0.5);
}

TEST_F(CliExplain, OcclusionAndEarlierLayersWork) {
  std::string inputs;
  int k = 0;
  for (const auto& [path, box] : *boxes_)
    if (k++ < 6) inputs += " " + path;
  const auto [code, out] =
      runCli("explain --model " + (*dir_ / "run/model").string() + inputs +
             " --method occlusion --out " + (*dir_ / "occ").string() + " --json");
  ASSERT_EQ(code, 0) << out;
  const json report = json::parse(out);
  ASSERT_EQ(report["items"].size(), 6u);
  for (const auto& item : report["items"]) {
    EXPECT_EQ(item["method"], "occlusion");
    EXPECT_FALSE(item["peak"].is_null());
  }
  const auto [code2, out2] =
      runCli("explain --model " + (*dir_ / "run/model").string() + inputs +
             " --layer block2 --method gradcam++ --out " + (*dir_ / "b2").string() + " --json");
  ASSERT_EQ(code2, 0) << out2;
  EXPECT_EQ(json::parse(out2)["items"][0]["layer"], "block2");
}

TEST_F(CliExplain, BadRequestsFailClearly) {
  const std::string model = (*dir_ / "run/model").string();
  const std::string one = boxes_->begin()->first;
  auto [c1, o1] = runCli(
      "explain --model " + model + " " + one + " --class zebra --out " + (*dir_ / "bad").string(),
      "", true);
  EXPECT_NE(c1, 0);
  EXPECT_NE(o1.find("zebra"), std::string::npos) << o1;
  EXPECT_NE(o1.find("square"), std::string::npos) << o1;  // lists the classes
  auto [c2, o2] = runCli(
      "explain --model " + model + " " + one + " --layer avgpool --out " + (*dir_ / "bad").string(),
      "", true);
  EXPECT_NE(c2, 0);
  EXPECT_NE(o2.find("block3"), std::string::npos) << o2;  // lists the layers it can explain
  // A corrupt image is reported by name; the others are still explained (exit code 2).
  tlab::test::writeText(*dir_ / "broken.png", "not a png");
  auto [c3, o3] =
      runCli("explain --model " + model + " " + one + " " + (*dir_ / "broken.png").string() +
             " --out " + (*dir_ / "mixed").string() + " --json");
  EXPECT_EQ(c3, 2) << o3;
  const json r = json::parse(o3);
  ASSERT_EQ(r["items"].size(), 2u);
  EXPECT_FALSE(r["items"][0].contains("error"));
  EXPECT_TRUE(r["items"][1].contains("error"));
  auto [c4, o4] = runCli(
      "explain --model " + model + " --text hello --out " + (*dir_ / "bad").string(), "", true);
  EXPECT_NE(c4, 0);
  EXPECT_NE(o4.find("image model"), std::string::npos) << o4;
}

// Word attributions through the pre-trained MiniLM: a linear probe on texts whose class is one
// keyword among filler words; the top-attributed word must be that keyword. Skipped without
// the MiniLM weights (scripts/fetch-weights).
TEST(CliExplainText, MiniLmTopWordIsTheKeyword) {
  if (tlab::test::kAddressSanitizer)
    GTEST_SKIP() << "slow under ASan; the core tests cover the attribution code";
  const char* home = std::getenv("HOME");
  const fs::path cache = std::getenv("XDG_CACHE_HOME") ? fs::path(std::getenv("XDG_CACHE_HOME"))
                                                       : fs::path(home ? home : "/") / ".cache";
  if (!fs::exists(cache / "transferlab/weights/all-minilm-l6-v2-53aa5117.safetensors"))
    GTEST_SKIP() << "MiniLM weights not fetched (scripts/fetch-weights)";
  tlab::test::TempDir dir;
  tlab::core::Rng rng(17);
  std::string csv = "text,label,split\n";
  std::vector<tlab::test::KeywordText> tests;
  const char* names[] = {"positive", "negative", "neutral", "none"};
  for (int i = 0; i < 480; ++i) {
    const auto t = tlab::test::makeKeywordText(rng, true);
    const char* split = i < 360 ? "train" : (i < 420 ? "val" : "test");
    csv += t.text + "," + names[t.label] + "," + split + "\n";
    if (i >= 420 && t.label < 3) tests.push_back(t);
  }
  tlab::test::writeText(dir / "keywords.csv", csv);
  std::string texts;
  for (const auto& t : tests) texts += t.text + "\n";
  tlab::test::writeText(dir / "test-texts.txt", texts);
  const auto [code, log] = runCli("train --dataset " + (dir / "keywords.csv").string() +
                                      " --backbone minilm_l6 --strategy linear-probe --epochs 30"
                                      " --lr 0.01 --seed 2 --out " +
                                      (dir / "run").string(),
                                  "", true);
  ASSERT_EQ(code, 0) << log;
  const auto [ecode, out] = runCli("explain --model " + (dir / "run/model").string() +
                                   " --text-file " + (dir / "test-texts.txt").string() + " --out " +
                                   (dir / "explained").string() + " --json");
  ASSERT_EQ(ecode, 0) << out;
  const json report = json::parse(out);
  ASSERT_EQ(report["items"].size(), tests.size());
  int top = 0, correct = 0;
  for (size_t i = 0; i < tests.size(); ++i) {
    const auto& item = report["items"][i];
    correct += item["predicted"] == names[tests[i].label];
    top += !item["top_word"].is_null() && item["top_word"] == tests[i].keyword;
  }
  std::printf(
      "explain CLI (MiniLM linear probe, %zu keyword test texts): accuracy %.2f, "
      "top-attributed word is the keyword %.2f\n",
      tests.size(), correct / double(tests.size()), top / double(tests.size()));
  EXPECT_GE(top, int(0.9 * double(tests.size())));
}
