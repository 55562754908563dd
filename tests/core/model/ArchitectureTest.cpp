#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/Errors.h"
#include "core/model/EfficientNetLite.h"
#include "core/model/ImageClassifier.h"
#include "core/weights/StateDict.h"

namespace tlab::core {
namespace {

int64_t countParams(const ImageClassifier& net) {
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  return n;
}

TEST(Architecture, ParameterCountsEqualUpstream) {
  // torchvision (resnet*, mobilenet_v2) and the EfficientNet-Lite0 weights file, 1000 classes.
  const std::pair<const char*, int64_t> expected[] = {{"resnet18", 11689512},
                                                      {"resnet34", 21797672},
                                                      {"resnet50", 25557032},
                                                      {"mobilenet_v2", 3504872},
                                                      {"efficientnet_lite0", 4652008}};
  for (const auto& [arch, count] : expected)
    EXPECT_EQ(countParams(createArchitecture(arch, 1000)), count) << arch;
  EXPECT_EQ(countParams(createArchitecture("small_cnn", 10, 1)), 94186);
  EXPECT_THROW(createArchitecture("vgg16", 10), InvalidArgument);
}

// "name d0,d1,..." per line, as written by tests/data/make_weight_fixtures.py.
std::map<std::string, std::vector<int64_t>> readKeys(const std::string& file) {
  std::map<std::string, std::vector<int64_t>> out;
  std::ifstream in(std::string(TLAB_TEST_DATA_DIR) + "/weights/" + file);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string key, dims;
    ls >> key >> dims;
    std::vector<int64_t> shape;
    std::istringstream ds(dims);
    for (std::string d; std::getline(ds, d, ',');) shape.push_back(std::stoll(d));
    out[key] = shape;
  }
  return out;
}

TEST(Architecture, StateDictKeysAndShapesMatchUpstreamExactly) {
  for (const char* arch : {"resnet18", "resnet50", "mobilenet_v2", "efficientnet_lite0"}) {
    const auto upstream = readKeys(std::string("keys_") + arch + ".txt");
    ASSERT_FALSE(upstream.empty()) << arch;
    std::map<std::string, std::vector<int64_t>> ours;
    for (const auto& [k, v] : stateDictOf(*createArchitecture(arch, 1000)))
      ours[k] = v.sizes().vec();
    EXPECT_EQ(ours, upstream) << arch;
  }
}

TEST(Architecture, ForwardShapesAndTfSamePadding) {
  torch::NoGradGuard noGrad;
  for (const char* arch : {"resnet18", "mobilenet_v2", "efficientnet_lite0"}) {
    auto net = createArchitecture(arch, 7);
    net->eval();
    EXPECT_EQ(net->forward(torch::zeros({2, 3, 96, 96})).sizes().vec(),
              (std::vector<int64_t>{2, 7}))
        << arch;
    EXPECT_EQ(net->features(torch::zeros({1, 3, 64, 64})).size(1), net->featureDim()) << arch;
  }
  auto small = createArchitecture("small_cnn", 10, 1);
  EXPECT_EQ(small->forward(torch::zeros({3, 1, 28, 28})).sizes().vec(),
            (std::vector<int64_t>{3, 10}));
}

TEST(Architecture, ReplacingTheHeadKeepsTheBackbone) {
  auto net = createArchitecture("resnet18", 1000);
  const auto before = net->named_parameters()["layer4.1.conv2.weight"].clone();
  net->replaceHead({HeadSpec::Kind::Mlp, 5, 64, 0.3});
  EXPECT_EQ(net->numClasses(), 5);
  const auto params = net->named_parameters();
  EXPECT_TRUE(params.contains("fc.0.weight"));
  EXPECT_EQ(params["fc.3.weight"].sizes().vec(), (std::vector<int64_t>{5, 64}));
  EXPECT_TRUE(torch::equal(params["layer4.1.conv2.weight"], before));
  net->eval();
  EXPECT_EQ(net->forward(torch::zeros({1, 3, 64, 64})).size(1), 5);
  net->replaceHead({HeadSpec::Kind::Linear, 3});
  EXPECT_EQ(net->named_parameters()["fc.1.weight"].sizes().vec(), (std::vector<int64_t>{3, 512}));
}

TEST(Architecture, StagesCoverTheBackbone) {
  auto net = createArchitecture("mobilenet_v2", 10);
  const auto stages = net->stages();
  ASSERT_EQ(stages.size(), 9u);  // stem, 7 inverted-residual stages, last conv
  EXPECT_EQ(stages[2].modules, (std::vector<std::string>{"features.2", "features.3"}));
  EXPECT_EQ(stages.back().modules, (std::vector<std::string>{"features.18"}));
  EXPECT_EQ(createArchitecture("efficientnet_lite0", 10)->stages()[6].modules.size(), 4u);
}

}  // namespace
}  // namespace tlab::core

namespace tlab::core {
namespace {

TEST(Architecture, ChannelsLastGivesTheSameOutputs) {
  EXPECT_EQ(preferredMemoryFormat("mobilenet_v2"), torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(preferredMemoryFormat("resnet18"), torch::MemoryFormat::Contiguous);
  torch::manual_seed(4);
  auto net = createArchitecture("mobilenet_v2", 5);
  net->eval();
  torch::NoGradGuard g;
  const auto x = torch::randn({2, 3, 64, 64});
  const auto before = net->forward(x);
  EXPECT_EQ(memoryFormatOf(*net), torch::MemoryFormat::Contiguous);
  setMemoryFormat(*net, torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(memoryFormatOf(*net), torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(torch::allclose(net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast)), before,
                              1e-4, 1e-5));
}

}  // namespace
}  // namespace tlab::core

namespace tlab::core {
namespace {

// The reference: TensorFlow's SAME padding written out (zeros, the smaller half top/left).
torch::Tensor tfSamePadded(const torch::Tensor& x, int64_t k, int64_t stride) {
  auto pad = [&](int64_t in) {
    return std::max<int64_t>(((in + stride - 1) / stride - 1) * stride + k - in, 0);
  };
  const int64_t ph = pad(x.size(2)), pw = pad(x.size(3));
  return torch::constant_pad_nd(x, {pw / 2, pw - pw / 2, ph / 2, ph - ph / 2}, 0);
}

TEST(Architecture, SameConvInputEqualsTensorFlowSamePadding) {
  torch::manual_seed(5);
  using Format = torch::MemoryFormat;
  for (int64_t k : {3, 5}) {
    for (int64_t stride : {1, 2}) {
      const auto w = torch::randn({4, 3, k, k});
      for (auto [h, wd] : {std::pair<int64_t, int64_t>{7, 7}, {8, 8}, {96, 95}, {49, 112}}) {
        for (const auto format : {Format::Contiguous, Format::ChannelsLast}) {
          for (const bool relu6 : {false, true}) {
            for (const bool grad : {false, true}) {  // the inference copy and the autograd path
              const auto x = (3 * torch::randn({2, 3, h, wd})).contiguous(format);
              const auto expected = torch::conv2d(
                  tfSamePadded(relu6 ? torch::hardtanh(x, 0, 6) : x, k, stride), w, {}, stride);
              // Inside a network the input is never a leaf (relu6 may work in place).
              const auto leaf = x.clone().requires_grad_(grad);
              const auto input = grad ? leaf * 1 : x.clone();
              std::optional<torch::NoGradGuard> noGrad;
              if (!grad) noGrad.emplace();
              const auto ours = torch::conv2d(sameConvInput(input, k, stride, relu6), w, {}, stride,
                                              sameConvPadding(k, stride));
              const std::string what = std::to_string(k) + "/" + std::to_string(stride) + " " +
                                       std::to_string(h) + "x" + std::to_string(wd) +
                                       (relu6 ? " relu6" : "") + (grad ? " grad" : "");
              ASSERT_EQ(ours.sizes(), expected.sizes()) << what;
              EXPECT_EQ(ours.size(2), (h + stride - 1) / stride) << what;
              EXPECT_LT((ours - expected).abs().max().item<double>(), 1e-4) << what;
              if (grad) {
                ours.sum().backward();
                EXPECT_TRUE(leaf.grad().defined()) << what;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace tlab::core
