#include "core/model/BertEncoder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/model/Activations.h"
#include "core/model/FreezeSpec.h"
#include "core/model/LayerTree.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/util/FileUtil.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace {

torch::Tensor tokens(const std::vector<std::vector<int64_t>>& ids, int64_t length) {
  auto t = torch::zeros({int64_t(ids.size()), 2, length}, torch::kLong);
  for (size_t i = 0; i < ids.size(); ++i) {
    for (size_t j = 0; j < ids[i].size(); ++j) {
      t[int64_t(i)][0][int64_t(j)] = ids[i][j];
      t[int64_t(i)][1][int64_t(j)] = 1;
    }
  }
  return t;
}

TEST(BertEncoder, ArchitectureNameParsing) {
  const auto c = BertConfig::fromArchitecture("bert_l6_h384_a12");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->layers, 6);
  EXPECT_EQ(c->hidden, 384);
  EXPECT_EQ(c->heads, 12);
  EXPECT_EQ(c->intermediate, 1536);
  EXPECT_FALSE(BertConfig::fromArchitecture("bert_l6_h384_a7"));  // 384 not divisible by 7
  EXPECT_FALSE(BertConfig::fromArchitecture("bert_large"));
}

TEST(BertEncoder, MiniLmLayoutAndParameterCount) {
  auto net = createArchitecture("bert_l6_h384_a12", 4);
  int64_t encoder = 0;
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("head.", 0) != 0) encoder += p.value().numel();
  }
  // HF BertModel of all-MiniLM-L6-v2 has 22,713,216 parameters with its 147,840-parameter
  // pooler, which mean pooling does not use.
  EXPECT_EQ(encoder, 22713216 - 147840);
  const auto params = net->named_parameters();
  EXPECT_TRUE(params.contains("embeddings.word_embeddings.weight"));
  EXPECT_TRUE(params.contains("encoder.layer.5.attention.self.query.weight"));
  EXPECT_TRUE(params.contains("encoder.layer.0.output.LayerNorm.bias"));
  const auto stages = net->stages();
  ASSERT_EQ(stages.size(), 7u);
  EXPECT_EQ(stages[0].name, "embeddings");
  EXPECT_EQ(stages[6].name, "layer.5");
  EXPECT_EQ(stages[6].modules, std::vector<std::string>{"encoder.layer.5"});
  EXPECT_EQ(net->headName(), "head");
}

TEST(BertEncoder, PaddingDoesNotChangeTheSentenceEmbedding) {
  torch::manual_seed(3);
  auto net = createArchitecture("bert_l2_h32_a4", 3);
  net->eval();
  torch::NoGradGuard g;
  const std::vector<std::vector<int64_t>> ids{{101, 7592, 2088, 102}, {101, 2023, 102}};
  const auto a = net->features(tokens(ids, 4));
  const auto b = net->features(tokens(ids, 11));
  EXPECT_EQ(a.sizes(), (torch::IntArrayRef{2, 32}));
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << (a - b).abs().max().item<float>();
  // Different texts give different embeddings (the mask does not blank everything out).
  EXPECT_GT((a[0] - a[1]).abs().max().item<float>(), 1e-3);
  EXPECT_EQ(net->forward(tokens(ids, 6)).sizes(), (torch::IntArrayRef{2, 3}));
  // A batch without any padding takes the path without a mask; same embedding.
  const auto alone = net->features(tokens({ids[0]}, 4));
  EXPECT_TRUE(torch::allclose(alone[0], a[0], 1e-5, 1e-6))
      << (alone[0] - a[0]).abs().max().item<float>();
}

// fastDropout: torch::dropout's distribution from 16 random bits per element.
TEST(FastDropout, KeepsOneMinusPScalesTheKeptAndIsSeeded) {
  const auto x = torch::ones({1000, 1001});  // odd count: the last int32's high half unused
  torch::manual_seed(5);
  const auto y = fastDropout(x, 0.1, true);
  const double kept = y.ne(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.9, 0.002);  // 1M draws: sd 0.0003
  const auto keptValues = y.masked_select(y.ne(0));
  EXPECT_NEAR(keptValues.min().item<float>(), 1 / 0.9f, 1e-6);
  EXPECT_NEAR(keptValues.max().item<float>(), 1 / 0.9f, 1e-6);
  // Both halves of each random word are used, with their own thresholds: even and odd
  // positions (low and high 16 bits) keep at the same rate.
  const auto flat = y.flatten().ne(0).to(torch::kDouble);
  const int64_t half = (flat.numel() + 1) / 2;
  EXPECT_NEAR(flat.narrow(0, 0, half).mean().item<double>(), 0.9, 0.003);
  EXPECT_NEAR(flat.narrow(0, half, flat.numel() - half).mean().item<double>(), 0.9, 0.003);
  // Seeded: the same seed gives the same mask.
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(fastDropout(x, 0.1, true), y));
  // Not training, or p = 0: the input itself.
  EXPECT_TRUE(fastDropout(x, 0.1, false).is_same(x));
  EXPECT_TRUE(fastDropout(x, 0.0, true).is_same(x));
  // The gradient is the mask times the scale; bf16 keeps its type.
  const auto leaf = torch::randn({64, 64}).requires_grad_(true);
  const auto out = fastDropout(leaf, 0.25, true);
  out.sum().backward();
  EXPECT_TRUE(torch::allclose(leaf.grad(), out.detach().ne(0).to(torch::kFloat) / 0.75));
  EXPECT_EQ(fastDropout(x.to(torch::kBFloat16), 0.1, true).scalar_type(), torch::kBFloat16);
}

TEST(BertEncoder, FreezesByTransformerBlockWithPerBlockRates) {
  auto net = createArchitecture("bert_l6_h384_a12", 5);
  FreezeSpec spec = FreezeSpec::lastStagesTrainable(*net, 2);
  spec.lrRules = {{"encoder.layer.4", 0.25}, {"encoder.layer.5", 0.5}};
  applyFreezeSpec(*net, spec);
  LayerNode tree = buildLayerTree(*net, 16, 1);
  annotateLayerTree(tree, *net, spec);
  EXPECT_EQ(tree.find("embeddings")->freezeState(), FreezeState::Frozen);
  EXPECT_EQ(tree.find("encoder.layer.3")->freezeState(), FreezeState::Frozen);
  EXPECT_EQ(tree.find("encoder.layer.4")->freezeState(), FreezeState::Trainable);
  EXPECT_EQ(tree.find("encoder.layer.5")->freezeState(), FreezeState::Trainable);
  EXPECT_EQ(tree.find("encoder")->freezeState(), FreezeState::Partial);
  EXPECT_EQ(tree.find("head")->freezeState(), FreezeState::Trainable);
  EXPECT_EQ(tree.find("encoder.layer.5")->outputShape, (std::vector<int64_t>{1, 16, 384}));
  EXPECT_DOUBLE_EQ(tree.find("encoder.layer.4")->lrMultiplier, 0.25);
  const auto groups = trainableParameterGroups(*net, spec);
  std::map<double, int64_t> byRate;
  for (const auto& g : groups) {
    for (const auto& p : g.params) byRate[g.lrMultiplier] += p.numel();
  }
  EXPECT_EQ(byRate[0.25], 1774464);  // one transformer block
  EXPECT_EQ(byRate[0.5], 1774464);
  EXPECT_EQ(byRate[1.0], 384 * 5 + 5);  // the head

  // Gradual unfreezing opens one block after another, from the top.
  const FreezeSpec e0 = gradualUnfreezeSpec(*net, 0, 0, 1);
  const FreezeSpec e2 = gradualUnfreezeSpec(*net, 2, 0, 1);
  EXPECT_TRUE(e0.isFrozen("encoder.layer.4.output.dense.weight", "head"));
  EXPECT_FALSE(e0.isFrozen("encoder.layer.5.output.dense.weight", "head"));
  EXPECT_FALSE(e2.isFrozen("encoder.layer.3.output.dense.weight", "head"));
  EXPECT_TRUE(e2.isFrozen("encoder.layer.2.output.dense.weight", "head"));
}

// Sentence embeddings of the published all-MiniLM-L6-v2 weights against Hugging Face
// transformers + mean pooling on the same sentences (tests/data/text/make_text_fixtures.py).
TEST(BertEncoder, MiniLmMatchesReferenceEmbeddings) {
  const auto catalog = BackboneCatalog::loadDefault();
  const auto& entry = catalog.get("minilm_l6");
  if (!weightsAvailableOffline(catalog, entry)) GTEST_SKIP() << "run scripts/fetch-weights first";
  LoadedBackbone b = loadBackbone(catalog, "minilm_l6");
  EXPECT_EQ(b.report.loaded.size(), 101u);  // 5 embedding + 6 x 16 block tensors
  EXPECT_EQ(b.report.missing, (std::vector<std::string>{"head.bias", "head.weight"}));
  EXPECT_EQ(b.report.skipped,
            (std::vector<std::string>{"embeddings.position_ids", "pooler.dense.bias",
                                      "pooler.dense.weight"}));
  b.net->eval();
  const auto ref = nlohmann::json::parse(readTextFile(
      std::filesystem::path(TLAB_TEST_DATA_DIR) / "text" / "minilm_reference.json", 1 << 24));
  std::vector<std::string> texts;
  std::vector<float> expected;
  for (const auto& s : ref.at("sentences")) {
    texts.push_back(s.at("text").get<std::string>());
    for (float v : s.at("embedding").get<std::vector<float>>()) expected.push_back(v);
  }
  const auto tokenizer = entry.preprocess().tokenizer;
  std::vector<std::string_view> views(texts.begin(), texts.end());
  TokenBatch t = tokenizer->encodeBatch(views, 128, Padding::Longest);
  auto input = torch::stack({torch::tensor(t.ids).view({t.count, t.length}),
                             torch::tensor(t.mask).view({t.count, t.length})},
                            1);
  torch::NoGradGuard g;
  const auto got = b.net->features(input);
  const auto want = torch::tensor(expected).view({t.count, 384});
  const float maxDiff = (got - want).abs().max().item<float>();
  EXPECT_LT(maxDiff, 1e-4f);
  RecordProperty("max_abs_difference", std::to_string(maxDiff));

  const auto unit =
      torch::nn::functional::normalize(got, torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto cos = torch::matmul(unit, unit.t());
  auto sim = [&](int i, int j) { return cos[i][j].item<float>(); };
  // 0/1: eating food / eating bread; 2/3: the movie is awesome / great; 4, 5, 6 unrelated.
  EXPECT_GT(sim(0, 1), sim(0, 4));
  EXPECT_GT(sim(0, 1), sim(0, 6));
  EXPECT_GT(sim(2, 3), sim(2, 5));
  EXPECT_GT(sim(2, 3), sim(2, 0));
  EXPECT_GT(sim(2, 3), 0.8f);
}

}  // namespace
}  // namespace tlab::core
