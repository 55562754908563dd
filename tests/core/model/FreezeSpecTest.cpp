#include "core/model/FreezeSpec.h"

#include <gtest/gtest.h>

#include "core/model/ImageClassifier.h"
#include "core/model/LayerTree.h"
#include "core/weights/StateDict.h"

namespace tlab::core {
namespace {

std::map<std::string, torch::Tensor> snapshot(const ImageClassifierImpl& net) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [k, v] : stateDictOf(net)) out[k] = v.clone();
  return out;
}

// A few SGD steps (momentum, weight decay) on random data over the trainable parameters only.
void trainSteps(ImageClassifierImpl& net, const FreezeSpec& spec, int steps) {
  applyFreezeSpec(net, spec);
  std::vector<torch::Tensor> params;
  for (auto& g : trainableParameterGroups(net, spec))
    params.insert(params.end(), g.params.begin(), g.params.end());
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3));
  torch::manual_seed(3);
  for (int i = 0; i < steps; ++i) {
    setTrainingMode(net, spec);
    sgd.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(
        net.forward(torch::randn({4, 3, 32, 32})), torch::randint(0, 10, {4}, torch::kLong));
    loss.backward();
    sgd.step();
  }
}

TEST(FreezeSpec, FrozenWeightsAndBatchNormStatisticsStayBitIdentical) {
  torch::manual_seed(1);
  auto net = createArchitecture("resnet18", 10);
  const FreezeSpec spec = FreezeSpec::lastStagesTrainable(*net, 1);  // layer4 + fc train
  const auto before = snapshot(*net);
  trainSteps(*net, spec, 3);
  const auto after = snapshot(*net);
  int frozenChecked = 0, trainableChanged = 0;
  for (const auto& [key, value] : before) {
    const bool trains = key.rfind("layer4.", 0) == 0 || key.rfind("fc.", 0) == 0;
    if (!trains) {
      EXPECT_TRUE(torch::equal(value, after.at(key))) << key << " moved although frozen";
      ++frozenChecked;
    } else if (!torch::equal(value, after.at(key))) {
      ++trainableChanged;
    }
  }
  EXPECT_GT(frozenChecked, 60);  // weights, BN gamma/beta, running mean/var, counters
  EXPECT_GT(trainableChanged, 10);
  // layer4's BatchNorm trains, so its statistics moved.
  EXPECT_FALSE(
      torch::equal(before.at("layer4.0.bn1.running_mean"), after.at("layer4.0.bn1.running_mean")));
}

TEST(FreezeSpec, BatchNormPolicies) {
  torch::manual_seed(2);
  auto net = createArchitecture("resnet18", 10);
  FreezeSpec spec = FreezeSpec::backboneFrozen();
  spec.batchNorm = BatchNormPolicy::AlwaysTrain;  // frozen weights, moving statistics
  auto before = snapshot(*net);
  trainSteps(*net, spec, 2);
  auto after = snapshot(*net);
  EXPECT_TRUE(torch::equal(before.at("layer1.0.bn1.weight"), after.at("layer1.0.bn1.weight")));
  EXPECT_FALSE(
      torch::equal(before.at("layer1.0.bn1.running_var"), after.at("layer1.0.bn1.running_var")));

  spec = FreezeSpec::allTrainable();
  spec.batchNorm = BatchNormPolicy::AlwaysFrozen;  // training weights, fixed statistics
  before = snapshot(*net);
  trainSteps(*net, spec, 2);
  after = snapshot(*net);
  EXPECT_FALSE(torch::equal(before.at("layer1.0.bn1.weight"), after.at("layer1.0.bn1.weight")));
  EXPECT_TRUE(
      torch::equal(before.at("layer1.0.bn1.running_var"), after.at("layer1.0.bn1.running_var")));
}

TEST(FreezeSpec, HeadTrainsUnlessNamedAndOptimizerSeesOnlyTrainable) {
  auto net = createArchitecture("resnet18", 10);
  FreezeSpec spec = FreezeSpec::backboneFrozen();
  EXPECT_TRUE(spec.isFrozen("layer1.0.conv1.weight", "fc"));
  EXPECT_FALSE(spec.isFrozen("fc.weight", "fc"));
  auto groups = trainableParameterGroups(*net, spec);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].params.size(), 2u);  // fc.weight, fc.bias
  spec.rules.push_back({"fc", true});
  EXPECT_TRUE(spec.isFrozen("fc.bias", "fc"));
}

TEST(FreezeSpec, PatternsCascadeAndLastRuleWins) {
  FreezeSpec spec;
  spec.rules = {{"layer2", true}, {"layer2.1", false}, {"*.bn*", true}};
  EXPECT_TRUE(spec.isFrozen("layer2.0.conv1.weight", "fc"));
  EXPECT_FALSE(spec.isFrozen("layer2.1.conv1.weight", "fc"));
  EXPECT_TRUE(spec.isFrozen("layer2.1.bn1.weight", "fc"));
  EXPECT_TRUE(spec.isFrozen("layer3.0.bn2.bias", "fc"));
  EXPECT_FALSE(spec.isFrozen("layer3.0.conv2.weight", "fc"));
  EXPECT_FALSE(pathMatches("layer1", "layer10.conv"));  // module boundary, not string prefix
}

TEST(FreezeSpec, LearningRateMultipliersGroupParameters) {
  auto net = createArchitecture("resnet18", 10);
  FreezeSpec spec = FreezeSpec::lastStagesTrainable(*net, 2);
  spec.lrRules = {{"layer3", 0.1}, {"layer4", 0.3}};
  const auto groups = trainableParameterGroups(*net, spec);
  std::map<double, size_t> sizes;
  for (const auto& g : groups) sizes[g.lrMultiplier] = g.params.size();
  ASSERT_EQ(sizes.size(), 3u);
  EXPECT_EQ(sizes[1.0], 2u);  // the head
  EXPECT_GT(sizes[0.1], 0u);
  EXPECT_GT(sizes[0.3], 0u);
}

TEST(FreezeSpec, GradualUnfreezingOpensOneStagePerStep) {
  auto net = createArchitecture("resnet18", 10);
  auto trainable = [&](int epoch) {
    const auto s = gradualUnfreezeSpec(*net, epoch, 2, 2);
    return std::make_pair(!s.isFrozen("layer4.0.conv1.weight", "fc"),
                          !s.isFrozen("layer3.0.conv1.weight", "fc"));
  };
  EXPECT_EQ(trainable(0), std::make_pair(false, false));  // head only
  EXPECT_EQ(trainable(2), std::make_pair(true, false));   // + layer4
  EXPECT_EQ(trainable(3), std::make_pair(true, false));
  EXPECT_EQ(trainable(4), std::make_pair(true, true));  // + layer3
}

TEST(LayerTree, CountsShapesAndTriStateFreeze) {
  auto net = createArchitecture("resnet18", 1000);
  const FreezeSpec spec = FreezeSpec::lastStagesTrainable(*net, 1);
  applyFreezeSpec(*net, spec);
  LayerNode root = buildLayerTree(*net, 224, 3);
  annotateLayerTree(root, *net, spec);
  EXPECT_EQ(root.params, 11689512);
  EXPECT_EQ(root.trainableParams, 8393728 + 513000);  // layer4 + fc
  EXPECT_EQ(root.freezeState(), FreezeState::Partial);
  const LayerNode* layer4 = root.find("layer4");
  ASSERT_NE(layer4, nullptr);
  EXPECT_EQ(layer4->outputShape, (std::vector<int64_t>{1, 512, 7, 7}));
  EXPECT_EQ(layer4->freezeState(), FreezeState::Trainable);
  const LayerNode* bn = root.find("layer1.0.bn1");
  ASSERT_NE(bn, nullptr);
  EXPECT_EQ(bn->type, "BatchNorm2d");
  EXPECT_TRUE(bn->bnStatsFrozen);
  EXPECT_EQ(root.find("layer1.0")->type, "BasicBlock");
  EXPECT_EQ(root.find("layer2.0")->outputShape, (std::vector<int64_t>{1, 128, 28, 28}));
}

}  // namespace
}  // namespace tlab::core
