// Grad-CAM against PyTorch's own computation (a committed fixture), the layers each built-in
// network offers, occlusion on a network whose answer is known, and the word merging of token
// attributions.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/data/Transforms.h"
#include "core/explain/Attribution.h"
#include "core/explain/Overlay.h"
#include "core/model/ImageClassifier.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/weights/StateDict.h"

using namespace tlab::core;

namespace {

struct Fixture {
  ImageClassifier net;
  std::map<std::string, torch::Tensor> tensors;
};

Fixture loadReference() {
  Fixture f;
  f.net = createArchitecture("small_cnn", 4, 3);
  StateDict weights;
  for (auto& [key, t] :
       readPth(std::string(TLAB_TEST_DATA_DIR) + "/explain/gradcam_small_cnn.pth")) {
    if (key.rfind("fixture.", 0) == 0) {
      f.tensors[key.substr(8)] = t;
    } else {
      weights.emplace_back(key, t);
    }
  }
  const auto report = loadStateDict(*f.net, weights);
  EXPECT_TRUE(report.complete()) << report.summary();
  return f;
}

double maxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}

}  // namespace

TEST(GradCam, MatchesPyTorchReference) {
  auto f = loadReference();
  const auto input = f.tensors.at("input");
  const int64_t target = f.tensors.at("class").item<int64_t>();
  for (const std::string layer : {"block2", "block3"}) {
    const auto cam = gradCam(*f.net, input, {target}, layer, CamMethod::GradCam)[0];
    EXPECT_EQ(cam.classIndex, target);
    EXPECT_EQ(cam.map.sizes(), f.tensors.at("gradcam." + layer).sizes());
    EXPECT_LT(maxDiff(cam.map, f.tensors.at("gradcam." + layer)), 1e-4) << layer;
    const auto pp = gradCam(*f.net, input, {target}, layer, CamMethod::GradCamPlusPlus)[0];
    EXPECT_LT(maxDiff(pp.map, f.tensors.at("gradcampp." + layer)), 1e-4) << layer;
    // The two methods really differ here, so the comparison above tells them apart.
    EXPECT_GT(maxDiff(cam.map, pp.map), 1e-3) << layer;
    const auto probs = torch::tensor(cam.probabilities);
    EXPECT_LT(maxDiff(probs, f.tensors.at("probabilities")), 1e-5);
  }
}

TEST(GradCam, BatchEqualsOneByOne) {
  auto f = loadReference();
  torch::manual_seed(3);
  const auto batch = torch::randn({3, 3, 40, 40});
  const auto together = gradCam(*f.net, batch, {0, -1, 3}, "block3");
  for (int i = 0; i < 3; ++i) {
    const int64_t cls = i == 0 ? 0 : (i == 1 ? -1 : 3);
    const auto alone = gradCam(*f.net, batch.narrow(0, i, 1), {cls}, "block3")[0];
    EXPECT_EQ(alone.classIndex, together[size_t(i)].classIndex);
    EXPECT_LT(maxDiff(alone.map, together[size_t(i)].map), 1e-5);
  }
  EXPECT_EQ(together[1].classIndex, together[1].predicted);
}

TEST(GradCam, EveryImageArchitectureHasLayersAndMaps) {
  const std::map<std::string, std::string> defaults{{"resnet18", "layer4"},
                                                    {"mobilenet_v2", "features"},
                                                    {"efficientnet_lite0", "_bn1"},
                                                    {"small_cnn", "block3"}};
  for (const auto& [arch, layer] : defaults) {
    auto net = createArchitecture(arch, 5, 3);
    net->train();  // explaining must not depend on (or change) the mode
    const auto layers = camLayers(*net, 64, 3);
    ASSERT_FALSE(layers.empty()) << arch;
    EXPECT_EQ(layers.back(), layer) << arch;
    EXPECT_EQ(defaultCamLayer(*net, 64, 3), layer);
    torch::manual_seed(1);
    const auto maps = gradCam(*net, torch::randn({2, 3, 64, 64}), {1, -1}, layers.front());
    ASSERT_EQ(maps.size(), 2u);
    for (const auto& m : maps) {
      EXPECT_EQ(m.map.sizes(), (std::vector<int64_t>{64, 64})) << arch;
      EXPECT_GE(m.map.min().item<float>(), 0.0f);
      EXPECT_LE(m.map.max().item<float>(), 1.0f + 1e-6f);
    }
    EXPECT_EQ(maps[0].classIndex, 1);
    EXPECT_TRUE(net->is_training()) << arch;
    // Explaining twice gives the same map (nothing cached or left behind in the network).
    const auto again = gradCam(*net, torch::randn({2, 3, 64, 64}), {1, -1}, layers.back());
    const auto again2 = gradCam(*net, torch::randn({2, 3, 64, 64}), {1, -1}, layers.back());
    EXPECT_EQ(again[0].map.sizes(), again2[0].map.sizes());
  }
}

TEST(GradCam, RejectsLayersItCannotExplain) {
  auto net = createArchitecture("small_cnn", 3, 3);
  const auto input = torch::randn({1, 3, 32, 32});
  try {
    gradCam(*net, input, {}, "avgpool");
    FAIL() << "a pooled (non-spatial) layer was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("avgpool"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gradCam(*net, input, {}, "no.such.layer"), InvalidArgument);
  EXPECT_THROW(gradCam(*net, input, {7}, "block3"), InvalidArgument);  // class out of range
  auto bert = createArchitecture("bert_l2_h32_a4", 2);
  EXPECT_TRUE(camLayers(*bert, 16, 1).empty());
}

namespace {
// Logit 0 = 10 x the mean of the top-left 8x8 corner, logit 1 = 0: occluding that corner (and
// nothing else) lowers the probability of class 0.
class CornerNet : public ImageClassifierImpl {
 public:
  CornerNet() {
    torch::nn::Linear fc(2, 2);
    {
      torch::NoGradGuard g;
      fc->weight.copy_(torch::eye(2));
      fc->bias.zero_();
    }
    setHead(
        "fc", fc.ptr(), [fc](torch::Tensor x) mutable { return fc->forward(x); }, 2);
  }
  torch::Tensor features(torch::Tensor x) override {
    const auto corner = x.narrow(2, 0, 8).narrow(3, 0, 8).mean({1, 2, 3}) * 10;
    return torch::stack({corner, torch::zeros_like(corner)}, 1);
  }
  std::vector<Stage> stages() const override { return {}; }
  int64_t featureDim() const override { return 2; }
};
}  // namespace

TEST(Occlusion, FindsTheOnlyRegionThatMatters) {
  auto net = std::make_shared<CornerNet>();
  const auto input = torch::ones({1, 3, 32, 32});
  std::vector<std::pair<int, int>> steps;
  OcclusionOptions o;
  o.patch = 8;
  o.stride = 4;
  o.batch = 5;
  o.progress = [&](int done, int total) { steps.emplace_back(done, total); };
  const auto map = occlusionMap(*net, input, 0, o);
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back().first, steps.back().second);
  EXPECT_EQ(steps.back().second, 49);  // 7 x 7 places of an 8-pixel patch at stride 4
  const auto peak = map.peak();
  ASSERT_TRUE(peak.has_value());
  EXPECT_LT(peak->first, 8);
  EXPECT_LT(peak->second, 8);
  // Far from the corner, covering changes nothing.
  EXPECT_FLOAT_EQ(map.map[31][31].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(map.map[0][0].item<float>(), 1.0f);
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  EXPECT_THROW(occlusionMap(*net, input, 0, o), Cancelled);
}

TEST(Overlay, MapsInputPixelsBackToTheImage) {
  Preprocess p;
  p.inputSize = 100;
  p.cropFraction = 0.5;  // the network sees the central half of a square image
  const auto r = evalViewRegion(400, 400, p);
  EXPECT_NEAR(r.x, 100, 1e-9);
  EXPECT_NEAR(r.width, 200, 1e-9);
  EXPECT_EQ(inputToImagePixel({0, 0}, 400, 400, p), std::make_pair(101, 101));
  EXPECT_EQ(inputToImagePixel({99, 50}, 400, 400, p), std::make_pair(299, 201));
  p.cropFraction = 1.0;  // a wide image: the shorter side fills the input, the sides are cut
  const auto w = evalViewRegion(300, 100, p);
  EXPECT_NEAR(w.x, 100, 1e-9);
  EXPECT_NEAR(w.height, 100, 1e-9);
  const cv::Mat img(100, 300, CV_8UC3, cv::Scalar(100, 100, 100));
  auto map = torch::zeros({100, 100});
  map[10][20] = 1.0;
  const auto over = overlayHeatmap(img, map, p, 0.5);
  EXPECT_EQ(over.size(), img.size());
  EXPECT_EQ(over.type(), CV_8UC3);
  EXPECT_LT(over.at<cv::Vec3b>(50, 10)[0], 60);                         // outside the view: dimmed
  EXPECT_NE(over.at<cv::Vec3b>(10, 120), over.at<cv::Vec3b>(90, 190));  // the peak is coloured
}

TEST(TokenAttribution, MergesWordPiecesAndExplainsEveryPiece) {
  tlab::test::TempDir dir;
  tlab::test::writeText(dir / "vocab.txt",
                        "[PAD]\n[UNK]\n[CLS]\n[SEP]\nplay\n##ing\n##ed\nthe\ngame\nwell\n");
  const auto tok = WordPieceTokenizer::load(dir / "vocab.txt");
  auto bert = createArchitecture("bert_l2_h32_a4", 3);
  const auto a = integratedGradients(*bert, *tok, "Playing the game played well", 16, 2, 16);
  EXPECT_EQ(a.classIndex, 2);
  ASSERT_EQ(a.pieces.size(), 7u);  // play ##ing the game play ##ed well
  ASSERT_EQ(a.words.size(), 5u);
  EXPECT_EQ(a.words[0].word, "playing");
  EXPECT_EQ(a.words[3].word, "played");
  EXPECT_NEAR(a.words[0].score, a.pieceScores[0] + a.pieceScores[1], 1e-9);
  double total = 0;
  for (double s : a.pieceScores) total += std::abs(s);
  EXPECT_GT(total, 0.0);
  EXPECT_GE(a.topWord(), 0);
  auto cnn = createArchitecture("small_cnn", 2, 3);
  EXPECT_THROW(integratedGradients(*cnn, *tok, "the game", 16), std::exception);
}

TEST(ClassMapPeak, APlateauPeaksAtItsCentreAndAZeroMapHasNone) {
  ClassMap m;
  m.map = torch::zeros({5, 8});
  EXPECT_FALSE(m.peak().has_value());                 // no evidence anywhere
  m.map.narrow(0, 1, 3).narrow(1, 0, 3).fill_(0.8f);  // a 3 x 3 plateau at the left edge
  m.map[4][7] = 0.5f;
  ASSERT_TRUE(m.peak().has_value());
  EXPECT_EQ(*m.peak(), std::make_pair(1, 2));  // its centre, not its first pixel (0, 1)
  m.map[0][6] = 0.9f;                          // a single higher pixel wins
  EXPECT_EQ(*m.peak(), std::make_pair(6, 0));
}

TEST(ClassMapPeak, GradCamCellsPeakBetweenCellsTowardsTheStrongerNeighbour) {
  ClassMap m;
  m.map = torch::zeros({128, 128});  // 4 x 4 cells of 32 px
  m.cells = torch::full({4, 4}, 0.1f);
  m.cells[1][1] = 1.0f;
  ASSERT_TRUE(m.peak().has_value());
  // Level neighbours: the cell's centre, (1 + 0.5) * 32 - 0.5 = 47.5 on both axes.
  EXPECT_EQ(*m.peak(), std::make_pair(48, 48));
  // A strong right neighbour: the vertex of the parabola through 0.1, 1, 0.9 lies 0.4 of a
  // cell to the right, (1.4 + 0.5) * 32 - 0.5 = 60.3, still in cell 1 (pixels 32-63) but near
  // the border with cell 2, where evidence straddling the two lies.
  m.cells[1][2] = 0.9f;
  EXPECT_EQ(*m.peak(), std::make_pair(60, 48));
  // Beyond the image's edge counts as 0: a corner cell with a weak neighbour stays near its
  // centre, pulled slightly inwards (the vertex of 0, 1, 0.1 is +0.026 of a cell).
  m.cells = torch::zeros({4, 4});
  m.cells[0][0] = 1.0f;
  m.cells[0][1] = 0.1f;
  EXPECT_EQ(*m.peak(), std::make_pair(16, 16));  // 16.3 and 15.5, rounded
  // All-zero cells: no peak, whatever the upsampled map holds.
  m.cells = torch::zeros({4, 4});
  m.map.fill_(1.0f);
  EXPECT_FALSE(m.peak().has_value());
}
