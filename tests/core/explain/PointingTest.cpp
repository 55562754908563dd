// The correctness checks for explanations: after training, Grad-CAM's peak falls on the one
// object that decides the class, and the top-attributed word is the one keyword that does.
// The figures are printed (the issue asks for them), the thresholds asserted.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "core/Sanitizers.h"
#include "core/TestImages.h"
#include "core/data/Transforms.h"
#include "core/explain/Attribution.h"
#include "core/explain/Overlay.h"
#include "core/explain/PointingData.h"
#include "core/model/ImageClassifier.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/ModelInput.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/BackboneLoader.h"

using namespace tlab::core;

namespace {

Preprocess shapePreprocess() {
  Preprocess p;
  p.inputSize = 48;
  p.cropFraction = 1.0;
  p.mean = {0.3f, 0.3f, 0.3f};
  p.std = {0.25f, 0.25f, 0.25f};
  return p;
}

torch::Tensor imageBatch(const std::vector<tlab::test::ShapeImage>& images, const Preprocess& p) {
  std::vector<torch::Tensor> xs;
  for (const auto& s : images) xs.push_back(imageInput(s.rgb, p));
  return torch::cat(xs);
}

bool inside(const std::optional<std::pair<int, int>>& peak, const cv::Rect& box) {
  return peak && box.contains(cv::Point(peak->first, peak->second));
}

}  // namespace

TEST(Pointing, GradCamPeakFallsOnTheShapeThatDecides) {
  torch::manual_seed(1);
  at::set_num_threads(2);
  const auto p = shapePreprocess();
  auto net = createArchitecture("small_cnn", 3, 3);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3));
  Rng rng(42);
  net->train();
  for (int step = 0; step < 300; ++step) {  // fresh images every step
    std::vector<tlab::test::ShapeImage> batch;
    std::vector<int64_t> labels;
    for (int i = 0; i < 32; ++i) {
      batch.push_back(tlab::test::makeShapeImage(rng));
      labels.push_back(batch.back().label);
    }
    opt.zero_grad();
    const auto loss =
        torch::cross_entropy_loss(net->forward(imageBatch(batch, p)), torch::tensor(labels));
    loss.backward();
    opt.step();
  }
  Rng testRng(7);
  int correct = 0, pointed = 0, wrongPointed = 0, plusPlus = 0;
  const int n = 100;
  for (int i = 0; i < n; ++i) {
    const auto s = tlab::test::makeShapeImage(testRng);
    const auto x = imageInput(s.rgb, p);
    const auto map = gradCam(*net, x, {s.label}, "block3")[0];
    correct += map.predicted == s.label;
    const auto peakOf = [&](const ClassMap& m) -> std::optional<std::pair<int, int>> {
      const auto pk = m.peak();
      if (!pk) return std::nullopt;
      return inputToImagePixel(*pk, s.rgb.cols, s.rgb.rows, p);
    };
    pointed += inside(peakOf(map), s.box);
    const auto wrong = gradCam(*net, x, {(s.label + 1) % 3}, "block3")[0];
    wrongPointed += inside(peakOf(wrong), s.box);
    plusPlus +=
        inside(peakOf(gradCam(*net, x, {s.label}, "block3", CamMethod::GradCamPlusPlus)[0]), s.box);
  }
  std::printf(
      "pointing (small_cnn, 48 px, %d test images): accuracy %.2f, Grad-CAM peak in the "
      "shape's box %.2f, Grad-CAM++ %.2f, a wrong class's map %.2f\n",
      n, correct / double(n), pointed / double(n), plusPlus / double(n), wrongPointed / double(n));
  EXPECT_GE(correct, 90);
  EXPECT_GE(pointed, 90);
  EXPECT_LT(wrongPointed, pointed / 2);
}

TEST(Pointing, TopAttributedWordIsTheKeyword) {
  torch::manual_seed(2);
  at::set_num_threads(2);
  tlab::test::TempDir dir;
  tlab::test::writeText(dir / "vocab.txt", tlab::test::keywordVocab());
  const auto tok = WordPieceTokenizer::load(dir / "vocab.txt");
  auto net = createArchitecture("bert_l2_h32_a4", 4);  // 3 keyword classes + "none"
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3));
  Rng rng(5);
  net->train();
  for (int step = 0; step < 250; ++step) {
    std::vector<std::string> texts;
    std::vector<int64_t> labels;
    for (int i = 0; i < 32; ++i) {
      const auto t = tlab::test::makeKeywordText(rng, true);
      texts.push_back(t.text);
      labels.push_back(t.label);
    }
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    const auto b = tok->encodeBatch(views, 16, Padding::Longest);
    const auto ids = torch::tensor(b.ids).view({b.count, b.length});
    const auto mask = torch::tensor(b.mask).view({b.count, b.length});
    opt.zero_grad();
    const auto loss = torch::cross_entropy_loss(net->forward(torch::stack({ids, mask}, 1)),
                                                torch::tensor(labels));
    loss.backward();
    opt.step();
  }
  Rng testRng(9);
  int correct = 0, top = 0;
  const int n = 100;
  for (int i = 0; i < n; ++i) {
    const auto t = tlab::test::makeKeywordText(testRng);
    const auto a = integratedGradients(*net, *tok, t.text, 16, t.label, 24);
    correct += a.predicted == t.label;
    const int w = a.topWord();
    const bool hit = w >= 0 && a.words[size_t(w)].word == t.keyword;
    top += hit;
    if (!hit && std::getenv("TLAB_DEBUG_POINTING")) {
      std::string line;
      for (const auto& ws : a.words) line += ws.word + "=" + std::to_string(ws.score) + " ";
      std::printf("miss (%s): %s\n", t.keyword.c_str(), line.c_str());
    }
  }
  std::printf(
      "pointing (tiny BERT, keyword among 6-10 filler words, %d test texts): accuracy "
      "%.2f, top-attributed word is the keyword %.2f\n",
      n, correct / double(n), top / double(n));
  EXPECT_GE(correct, 90);
  EXPECT_GE(top, 90);
}

// The same check on a pre-trained EfficientNet-Lite0, fully fine-tuned in-process on fresh
// images (128 px; the shape is 32 px, one cell of the last stage's 4 x 4 map), at the default
// layer and at _blocks.10 (stride 16). Skipped when the weights have not been fetched
// (scripts/fetch-weights). TLAB_POINTING_SIZE/_SHAPE/_STEPS change the set-up,
// TLAB_POINTING_BACKBONE another pre-trained backbone (default layer only) and
// TLAB_POINTING_DUMP=DIR writes the first overlays (box in white, peak in magenta).
TEST(Pointing, EfficientNetLite0GradCamPeakFallsOnTheShape) {
  if (tlab::test::kAddressSanitizer)
    GTEST_SKIP() << "minutes of training under ASan; the small-CNN test covers the code";
  const char* backboneEnv = std::getenv("TLAB_POINTING_BACKBONE");
  const std::string backbone = backboneEnv ? backboneEnv : "efficientnet_lite0";
  const auto catalog = BackboneCatalog::loadDefault();
  BackboneLoadOptions options;
  options.allowDownload = false;
  LoadedBackbone loaded;
  try {
    loaded = loadBackbone(catalog, backbone, options);
  } catch (const std::exception& e) {
    GTEST_SKIP() << backbone << " weights not available: " << e.what();
  }
  if (loaded.weightsPath.empty()) GTEST_SKIP() << backbone << " weights not available";
  torch::manual_seed(3);
  at::set_num_threads(2);
  auto net = loaded.net;
  net->replaceHead({HeadSpec::Kind::Linear, 3});
  const auto envInt = [](const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : fallback;
  };
  const int side = envInt("TLAB_POINTING_SIZE", 128), shape = envInt("TLAB_POINTING_SHAPE", 32);
  Preprocess p = loaded.entry.preprocess();
  p.inputSize = side;
  p.cropFraction = 1.0;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(5e-4));
  Rng rng(21);
  net->train();
  const int steps = envInt("TLAB_POINTING_STEPS", 150);
  for (int step = 0; step < steps; ++step) {
    std::vector<tlab::test::ShapeImage> batch;
    std::vector<int64_t> labels;
    for (int i = 0; i < 16; ++i) {
      batch.push_back(tlab::test::makeShapeImage(rng, side, shape, 2));
      labels.push_back(batch.back().label);
    }
    opt.zero_grad();
    torch::cross_entropy_loss(net->forward(imageBatch(batch, p)), torch::tensor(labels)).backward();
    opt.step();
  }
  Rng testRng(8);
  const std::string last = camLayers(*net, side, 3).back();
  std::vector<std::string> layers{last};
  if (backbone == "efficientnet_lite0") layers.push_back("_blocks.10");
  // Per layer: Grad-CAM's peak, the same map's strongest cell centre (no refinement between
  // cells), Grad-CAM++'s peak, and a wrong class's Grad-CAM peak.
  struct Counts {
    int peak = 0, cellCentre = 0, plusPlus = 0, wrong = 0;
  };
  std::map<std::string, Counts> counts;
  int correct = 0;
  const int n = 100;
  for (int i = 0; i < n; ++i) {
    const auto s = tlab::test::makeShapeImage(testRng, side, shape, 2);
    const auto x = imageInput(s.rgb, p);
    for (const auto& layer : layers) {
      auto& c = counts[layer];
      const auto map = gradCam(*net, x, {s.label}, layer)[0];
      if (layer == last) correct += map.predicted == s.label;
      c.peak += inside(map.peak(), s.box);
      ClassMap coarse = map;
      coarse.cells = torch::Tensor();
      c.cellCentre += inside(coarse.peak(), s.box);
      c.plusPlus +=
          inside(gradCam(*net, x, {s.label}, layer, CamMethod::GradCamPlusPlus)[0].peak(), s.box);
      c.wrong += inside(gradCam(*net, x, {(s.label + 1) % 3}, layer)[0].peak(), s.box);
      if (const char* dump = std::getenv("TLAB_POINTING_DUMP"); dump && i < 8) {
        cv::Mat o = overlayHeatmap(s.rgb, map.map, p, 0.5);
        cv::rectangle(o, s.box, cv::Scalar(255, 255, 255), 1);
        if (const auto pk = map.peak())
          cv::circle(o, cv::Point(pk->first, pk->second), 3, cv::Scalar(255, 0, 255), -1);
        cv::cvtColor(o, o, cv::COLOR_RGB2BGR);
        cv::imwrite(std::string(dump) + "/" + std::to_string(i) + "-" + layer + ".png", o);
      }
    }
  }
  std::printf(
      "pointing (%s pre-trained, full fine-tune %d steps of 16 at %d px, shape %d px, %d test "
      "images): accuracy %.2f\n",
      backbone.c_str(), steps, side, shape, n, correct / double(n));
  for (const auto& layer : layers) {
    const auto& c = counts[layer];
    std::printf(
        "  at %s: peak in the shape's box: Grad-CAM %.2f (strongest cell's centre %.2f), "
        "Grad-CAM++ %.2f; a wrong class's Grad-CAM %.2f\n",
        layer.c_str(), c.peak / double(n), c.cellCentre / double(n), c.plusPlus / double(n),
        c.wrong / double(n));
  }
  EXPECT_GE(correct, 90);
  // Measured here (Lite0, 128 px, 150 steps): Grad-CAM 1.00 at _bn1 and 0.97 at _blocks.10;
  // the strongest cell's centre alone 0.63 and 0.83 (chance is 0.06: a 32 px box in 128 px).
  EXPECT_GE(counts[last].peak, 90);
  EXPECT_LE(counts[last].wrong, 30);
}
