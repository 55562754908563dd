#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/Errors.h"
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
