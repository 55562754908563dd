// transferlab-cli backbones / model tree / predict, run as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "cli/CliRunner.h"
#include "core/TestImages.h"
#include "core/dataset/Readers.h"
#include "core/model/ImageClassifier.h"
#include "core/weights/StateDict.h"

namespace {
using nlohmann::json;

auto run = [](const std::string& args) { return tlab::test::runCli(args); };

TEST(CliModel, BackbonesListNamesEveryCatalogId) {
  const auto [code, out] = run("backbones list --json");
  ASSERT_EQ(code, 0) << out;
  std::set<std::string> ids;
  for (const auto& b : json::parse(out)) ids.insert(b["id"].get<std::string>());
  for (const char* id : {"resnet18", "resnet34", "resnet50", "mobilenet_v2", "efficientnet_lite0",
                         "small_cnn", "small_cnn_fmnist"}) {
    EXPECT_TRUE(ids.count(id)) << id;
  }
}

// Found by a new user: "bert_l6_h384_scratchBERT L6/H384" ran the id into the name column.
TEST(CliModel, BackbonesListKeepsLongIdsAndNamesApartFromTheNextColumn) {
  const auto [code, out] = run("backbones list");
  ASSERT_EQ(code, 0) << out;
  const auto [jcode, jout] = run("backbones list --json");
  ASSERT_EQ(jcode, 0) << jout;
  std::istringstream lines(out);
  std::string header, line;
  std::getline(lines, header);
  const size_t nameColumn = header.find("NAME");
  ASSERT_NE(nameColumn, std::string::npos) << header;
  size_t rows = 0;
  for (const auto& b : json::parse(jout)) {
    ASSERT_TRUE(std::getline(lines, line));
    const std::string id = b["id"], name = b["name"];
    EXPECT_EQ(line.rfind(id + "  ", 0), 0u) << line;  // the id, then at least two spaces
    EXPECT_EQ(line.compare(nameColumn, name.size() + 2, name + "  "), 0) << line;
    ++rows;
  }
  EXPECT_GE(rows, 9u);
}

TEST(CliModel, ModelTreeJsonHasTotalsAndShapes) {
  const auto [code, out] = run("model tree --backbone resnet18 --trainable-stages 1 --json");
  ASSERT_EQ(code, 0) << out;
  const json j = json::parse(out);
  EXPECT_EQ(j["backbone"], "resnet18");
  EXPECT_EQ(j["total_params"], 11689512);
  EXPECT_EQ(j["trainable_params"], 8906728);
  EXPECT_EQ(j["frozen_params"], 11689512 - 8906728);
  const auto& children = j["root"]["children"];
  ASSERT_EQ(children.size(), 7u);
  EXPECT_EQ(children[5]["name"], "layer4");
  EXPECT_EQ(children[5]["output_shape"], json::array({1, 512, 7, 7}));
  EXPECT_EQ(children[0]["state"], "frozen");
  const auto [code2, out2] = run("model tree --backbone mobilenet_v2 --input-size 96 --json");
  ASSERT_EQ(code2, 0);
  EXPECT_EQ(json::parse(out2)["total_params"], 3504872);
}

TEST(CliModel, PredictWithTheBundledFashionMnistCnn) {
  const std::filesystem::path fm = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(fm)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const auto ds = tlab::core::openDataset(fm);
  tlab::test::TempDir dir;
  std::string args = "predict --backbone small_cnn_fmnist --topk 2 --json";
  std::vector<int> truth;
  const auto test = ds.indicesOf(tlab::core::Split::Test);
  for (int k = 0; k < 40; ++k) {
    const size_t i = test[size_t(k) * 97];
    const auto path = dir / ("img" + std::to_string(k) + ".png");
    cv::imwrite(path.string(), ds.loadImage(i).pixels);
    args += " " + path.string();
    truth.push_back(ds.samples[i].label);
  }
  tlab::test::writeText(dir / "broken.png", "nope");
  args += " " + (dir / "broken.png").string();
  const auto [code, out] = run(args);
  EXPECT_EQ(code, 2) << out;  // one image failed
  const json j = json::parse(out);
  ASSERT_EQ(j.size(), 41u);
  int correct = 0;
  for (int k = 0; k < 40; ++k) {
    ASSERT_EQ(j[k]["top"].size(), 2u);
    correct += j[k]["top"][0]["index"].get<int>() == truth[size_t(k)];
    EXPECT_EQ(j[k]["top"][0]["label"], ds.classNames[j[k]["top"][0]["index"].get<size_t>()]);
  }
  EXPECT_GE(correct, 30) << "the bundled CNN should classify most Fashion-MNIST test images";
  EXPECT_TRUE(j[40].contains("error"));
}

TEST(CliModel, PredictWithATorchScriptFile) {
  tlab::test::TempDir dir;
  tlab::test::writeImage(dir / "a.png", tlab::test::patternRgb(40, 30));
  const std::string args = "predict --backbone " + std::string(TLAB_TEST_DATA_DIR) +
                           "/weights/tiny_script.pt --input-size 32 --json " +
                           (dir / "a.png").string();
  // TorchScript can run code: without the user's explicit trust it is not loaded.
  const auto [refused, output] = run(args);
  EXPECT_EQ(refused, 3);
  EXPECT_TRUE(output.empty()) << output;
  const auto [code, out] = run(args + " --trust-torchscript");
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(json::parse(out)[0]["top"].size(), 3u);
}

TEST(CliModel, UnknownBackboneIsAClearError) {
  EXPECT_EQ(run("model tree --backbone vgg99").first, 3);
}

}  // namespace

// pretrain used to have its own training loop (and no test); it now runs through the Trainer.
TEST(CliModel, PretrainTrainsFromScratchAndSavesWeightsTheArchitectureLoads) {
  tlab::test::TempDir dir;
  for (const char* split : {"train", "test"}) {
    for (int i = 0; i < 12; ++i) {
      tlab::test::writeImage(dir / (std::string(split) + "/dark/" + std::to_string(i) + ".png"),
                             cv::Mat(28, 28, CV_8UC3, cv::Scalar::all(20 + i)));
      tlab::test::writeImage(dir / (std::string(split) + "/light/" + std::to_string(i) + ".png"),
                             cv::Mat(28, 28, CV_8UC3, cv::Scalar::all(220 - i)));
    }
  }
  const auto out = dir / "small.safetensors";
  const auto [code, text] =
      run("pretrain --dataset " + (dir / "").string() +
          " --backbone small_cnn --epochs 2 --batch-size 8 --json --out " + out.string());
  ASSERT_EQ(code, 0) << text;
  std::istringstream lines(text);
  std::string line;
  int epochs = 0;
  double lastAccuracy = -1;
  while (std::getline(lines, line)) {
    const json e = json::parse(line);
    ++epochs;
    lastAccuracy = e.at("test_accuracy").get<double>();
  }
  EXPECT_EQ(epochs, 2);
  EXPECT_GE(lastAccuracy, 0.9) << "dark against light is easy";
  // Every tensor of a fresh small_cnn with a two-class head, by name and shape.
  auto net = tlab::core::createArchitecture("small_cnn", 2, 1);
  const auto report = tlab::core::loadStateDict(*net, tlab::core::readSafetensors(out));
  EXPECT_TRUE(report.complete()) << report.summary();
  EXPECT_FALSE(report.loaded.empty());
}
