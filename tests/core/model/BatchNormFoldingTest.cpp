#include <gtest/gtest.h>

#include "core/model/BatchNormFolding.h"
#include "core/model/FreezeSpec.h"
#include "core/model/ImageClassifier.h"
#include "core/model/LayerTree.h"

namespace tlab::core {
namespace {

// Non-trivial BatchNorm statistics and affine parameters, as after training (fresh ones are the
// identity map and would hide a wrong fold).
void randomiseBatchNorms(torch::nn::Module& net) {
  torch::NoGradGuard g;
  for (auto& m : net.modules()) {
    if (auto* bn = m->as<foldable::BatchNorm2d>()) {
      bn->running_mean.uniform_(-0.5, 0.5);
      bn->running_var.uniform_(0.5, 2.0);
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.3, 0.3);
    }
  }
}

struct Case {
  const char* arch;
  int64_t channels, size;
};

TEST(BatchNormFolding, FoldedNetworkPredictsWhatTheOriginalDoes) {
  torch::manual_seed(3);
  for (const Case c :
       {Case{"resnet18", 3, 64}, Case{"resnet50", 3, 64}, Case{"mobilenet_v2", 3, 64},
        Case{"efficientnet_lite0", 3, 67}, Case{"small_cnn", 1, 28}}) {
    auto net = createArchitecture(c.arch, 7, c.channels);
    randomiseBatchNorms(*net);
    net->eval();
    torch::NoGradGuard g;
    const auto x = torch::randn({2, c.channels, c.size, c.size});
    const auto expected = net->forward(x);
    int64_t batchNorms = 0;
    for (auto& m : net->modules()) batchNorms += m->as<foldable::BatchNorm2d>() != nullptr;
    {
      BatchNormFolding folding(*net);
      EXPECT_EQ(int64_t(folding.foldedCount()), batchNorms) << c.arch;  // every one folds
      const auto folded = net->forward(x);
      EXPECT_LT((folded - expected).abs().max().item<double>(),
                1e-4 * std::max(1.0, expected.abs().max().item<double>()))
          << c.arch;
    }
    EXPECT_TRUE(net->forward(x).equal(expected)) << c.arch << ": weights not restored exactly";
  }
}

TEST(BatchNormFolding, RestoresWeightsBitForBitAndKeepsLayout) {
  auto net = createArchitecture("mobilenet_v2", 4);
  setMemoryFormat(*net, torch::MemoryFormat::ChannelsLast);
  randomiseBatchNorms(*net);
  net->eval();
  std::vector<torch::Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.detach().clone());
  {
    BatchNormFolding folding(*net);
    EXPECT_EQ(memoryFormatOf(*net), torch::MemoryFormat::ChannelsLast);
  }
  const auto after = net->parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(after[i].equal(before[i])) << i;
  EXPECT_EQ(memoryFormatOf(*net), torch::MemoryFormat::ChannelsLast);
  for (auto& m : net->modules()) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      EXPECT_FALSE(conv->bias.defined());
    }
  }
}

TEST(BatchNormFolding, LeavesBatchNormsThatTrainAlone) {
  auto net = createArchitecture("resnet18", 3);
  net->train();  // every BatchNorm updates its statistics: none may fold
  EXPECT_EQ(BatchNormFolding(*net).foldedCount(), 0u);
  const FreezeSpec spec = FreezeSpec::backboneFrozen();
  applyFreezeSpec(*net, spec);
  setTrainingMode(*net, spec);  // frozen backbone: its BatchNorms are in eval mode
  int64_t evalBatchNorms = 0;
  for (auto& m : net->modules())
    if (auto* bn = m->as<foldable::BatchNorm2d>()) evalBatchNorms += !bn->is_training();
  EXPECT_GT(evalBatchNorms, 0);
  EXPECT_EQ(int64_t(BatchNormFolding(*net).foldedCount()), evalBatchNorms);
}

TEST(BatchNormFolding, LayerTreeStillShowsBatchNorm2d) {
  auto net = createArchitecture("resnet18", 3);
  const LayerNode tree = buildLayerTree(*net, 64, 3);
  const LayerNode* bn1 = nullptr;
  for (const auto& c : tree.children)
    if (c.name == "bn1") bn1 = &c;
  ASSERT_NE(bn1, nullptr);
  EXPECT_EQ(bn1->type, "BatchNorm2d");
  EXPECT_TRUE(bn1->isBatchNorm);
}

}  // namespace
}  // namespace tlab::core
