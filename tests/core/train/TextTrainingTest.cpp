// Text datasets through the same trainer, feature cache, evaluation and export as images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <numeric>

#include "core/Errors.h"
#include "core/TextFixtures.h"
#include "core/data/DataLoader.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/ModelBundle.h"
#include "core/train/ModelInput.h"
#include "core/train/Trainer.h"
#include "core/util/Random.h"
#include "core/zoo/BackboneCatalog.h"

namespace tlab::core {
namespace {

TrainConfig textConfig(Strategy s, int epochs) {
  TrainConfig c;
  c.backbone = "tiny_bert";
  c.strategy = s;
  c.epochs = epochs;
  c.batchSize = 16;
  c.lr = 3e-3;
  c.seed = 5;
  c.workers = 2;
  c.featureCache = false;
  return c;
}

struct Logs : TrainerObserver {
  std::mutex m;
  std::vector<std::string> lines;
  void onLog(const std::string& s) override {
    std::lock_guard<std::mutex> l(m);
    lines.push_back(s);
  }
  bool contains(const std::string& needle) {
    std::lock_guard<std::mutex> l(m);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& s) { return s.find(needle) != std::string::npos; });
  }
};

TEST(TextData, LoaderTokenizesBatchesPaddedToTheLongestText) {
  test::TinyTextCatalog catalog(12);
  const Preprocess pre = BackboneCatalog::loadDefault().get("tiny_bert").preprocess();
  auto ds = test::topicTexts(4);
  ds->samples[0].text = "compiler kernel cpu memory software bug compiler kernel cpu bug cpu";
  LoaderOptions o;
  o.batchSize = 5;
  o.shuffle = false;
  o.preprocess = pre;
  DataLoader loader(ds, {0, 1, 2, 3, 4}, o);
  loader.startEpoch(0);
  auto b = loader.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 5u);
  EXPECT_EQ(b->seqLength, 12);  // the long text is cut to 12 tokens; the others are shorter
  EXPECT_EQ(b->truncatedTexts, 1u);
  const auto x = inputTensor(*b);
  EXPECT_EQ(x.sizes(), (torch::IntArrayRef{5, 2, 12}));
  EXPECT_EQ(x[0][0][0].item<int64_t>(), pre.tokenizer->clsId());
  EXPECT_EQ(x[0][0][11].item<int64_t>(), pre.tokenizer->sepId());
  EXPECT_EQ(x[0][1].sum().item<int64_t>(), 12);
  // Sample 1: mask ones exactly over [CLS] pieces [SEP], padding ids elsewhere.
  const auto pieces = int64_t(pre.tokenizer->pieceIds(ds->samples[1].text).size());
  EXPECT_EQ(x[1][1].sum().item<int64_t>(), pieces + 2);
  EXPECT_EQ(x[1][0][pieces + 2].item<int64_t>(), pre.tokenizer->padId());
  EXPECT_EQ(b->labels, (std::vector<int64_t>{0, 1, 2, 0, 1}));

  o.preprocess = Preprocess{};  // no tokenizer: a text dataset cannot be loaded as images
  EXPECT_THROW(DataLoader(ds, std::vector<size_t>{0}, o), InvalidArgument);
}

TEST(TextData, LengthGroupingCutsPaddingAndKeepsEverySampleOncePerEpoch) {
  test::TinyTextCatalog catalog(64);
  auto ds = test::topicTexts(100);
  Rng rng(11);
  for (auto& s : ds->samples) {  // 1 to 40 words
    s.text.clear();
    for (uint64_t w = 0, n = 1 + rng.below(40); w < n; ++w) s.text += "cpu ";
  }
  std::vector<size_t> all(ds->size());
  std::iota(all.begin(), all.end(), size_t(0));
  auto padding = [&](bool group, uint64_t epoch, std::vector<size_t>* seen) {
    LoaderOptions o;
    o.batchSize = 16;
    o.seed = 3;
    o.groupByLength = group;
    o.preprocess = BackboneCatalog::loadDefault().get("tiny_bert").preprocess();
    DataLoader loader(ds, all, o);
    loader.startEpoch(epoch);
    int64_t pad = 0;
    while (auto b = loader.next()) {
      pad += inputTensor(*b).select(1, 1).eq(0).sum().item<int64_t>();
      if (seen) seen->insert(seen->end(), b->indices.begin(), b->indices.end());
    }
    return pad;
  };
  std::vector<size_t> e0, e1;
  const int64_t grouped = padding(true, 0, &e0), plain = padding(false, 0, nullptr);
  padding(true, 1, &e1);
  EXPECT_LT(grouped * 10, plain) << grouped << " vs " << plain << " padding tokens";
  EXPECT_NE(e0, e1) << "batches are reshuffled every epoch";
  std::sort(e0.begin(), e0.end());
  EXPECT_EQ(e0, all);
  std::vector<size_t> again;
  padding(true, 1, &again);
  std::sort(e1.begin(), e1.end());
  EXPECT_EQ(e1, all);
}

TEST(TextData, FineTunesTheEncoderAndReportsTruncation) {
  test::TinyTextCatalog catalog(8);
  auto ds = test::topicTexts(30);
  ds->samples[0].text = test::topicSentence(0) + " " + test::topicSentence(3);  // > 8 tokens
  Logs logs;
  Trainer t(textConfig(Strategy::Full, 6), ds, {}, &logs);
  t.start();
  t.join();
  const auto& r = t.result();
  ASSERT_EQ(r.state, RunState::Finished) << r.error;
  ASSERT_TRUE(r.test.has_value());
  EXPECT_EQ(r.test->count, 24);
  EXPECT_GE(r.test->accuracy, 0.9) << "each sentence names its topic";
  EXPECT_GE(r.truncatedTexts, 1u);
  EXPECT_TRUE(logs.contains("are longer than 8 tokens and are truncated"));
}

TEST(TextData, LinearProbeCachesPooledEmbeddings) {
  test::TinyTextCatalog catalog;
  test::TempDir cacheDir;
  setenv("TLAB_CACHE_DIR", (cacheDir / "weights").c_str(), 1);
  TrainConfig c = textConfig(Strategy::LinearProbe, 3);
  c.featureCache = true;
  auto run = [&](std::shared_ptr<Dataset> ds) {
    Trainer t(c, ds, {});
    t.start();
    t.join();
    EXPECT_EQ(t.result().state, RunState::Finished) << t.result().error;
    return t.result();
  };
  auto ds = test::topicTexts(10);
  const auto first = run(ds);
  const auto second = run(ds);
  EXPECT_EQ(first.featureCache, core::FeatureCacheUse::Miss);
  EXPECT_EQ(second.featureCache, core::FeatureCacheUse::Hit);
  EXPECT_DOUBLE_EQ(first.test->accuracy, second.test->accuracy);
  // Editing one training text changes the key: the cache does not serve stale embeddings.
  auto edited = std::make_shared<Dataset>(*ds);
  edited->samples[0].text = "Kernel bug again.";
  EXPECT_EQ(run(edited).featureCache, core::FeatureCacheUse::Miss);
  unsetenv("TLAB_CACHE_DIR");
}

TEST(TextData, ExportedTextBundleCarriesItsTokenizer) {
  test::TinyTextCatalog catalog;
  test::TempDir dir;
  Trainer t(textConfig(Strategy::FinetuneLast, 1), test::topicTexts(5), {});
  t.start();
  t.join();
  const auto& r = t.result();
  ASSERT_EQ(r.state, RunState::Finished) << r.error;
  exportModelBundle(dir / "model", *t.model(),
                    {r.architecture,
                     "tiny_bert",
                     {HeadSpec::Kind::Linear, 3, 256, 0.2},
                     r.classNames,
                     r.preprocess,
                     1.0,
                     0.5,
                     {}});
  EXPECT_TRUE(std::filesystem::exists(dir / "model" / "vocab.txt"));
  const LoadedModel m = loadModelBundle(dir / "model");
  ASSERT_TRUE(m.info.preprocess.tokenizer);
  EXPECT_EQ(m.info.preprocess.inputSize, 16);
  EXPECT_EQ(m.info.preprocess.tokenizer->tokenize("Atom energy."),
            r.preprocess.tokenizer->tokenize("Atom energy."));
  const TokenBatch tb = m.info.preprocess.tokenizer->encodeBatch(
      {"Senate vote today.", "A new cpu bug."}, 16, Padding::Longest);
  const auto x = torch::stack(
      {torch::tensor(tb.ids).view({2, tb.length}), torch::tensor(tb.mask).view({2, tb.length})}, 1);
  torch::NoGradGuard g;
  t.model()->eval();
  EXPECT_TRUE(torch::allclose(t.model()->forward(x), m.net->forward(x), 1e-5, 1e-6));
}

TEST(TextData, ImageBackboneOnTextDataFailsWithAClearMessage) {
  TrainConfig c = textConfig(Strategy::LinearProbe, 1);
  c.backbone = "small_cnn";
  Trainer t(c, test::topicTexts(4), {});
  t.start();
  t.join();
  EXPECT_EQ(t.result().state, RunState::Failed);
  EXPECT_NE(t.result().error.find("is a text dataset"), std::string::npos) << t.result().error;
}

}  // namespace
}  // namespace tlab::core
