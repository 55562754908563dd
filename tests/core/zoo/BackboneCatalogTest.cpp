#include "core/zoo/BackboneCatalog.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <cstdlib>
#include <fstream>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/model/ImageClassifier.h"
#include "core/model/LayerTree.h"
#include "core/util/Trust.h"
#include "core/weights/StateDict.h"
#include "core/zoo/BackboneLoader.h"
#include "core/zoo/LocalHttpServer.h"

namespace tlab::core {
namespace {

// Points the weight cache at a fresh folder for the lifetime of the object.
class ScopedCache {
 public:
  ScopedCache() { setenv("TLAB_CACHE_DIR", dir_.path().c_str(), 1); }
  ~ScopedCache() { unsetenv("TLAB_CACHE_DIR"); }
  const test::TempDir& dir() const { return dir_; }

 private:
  test::TempDir dir_;
};

TEST(BackboneCatalog, DefaultCatalogIsConsistentWithTheArchitectures) {
  const auto catalog = BackboneCatalog::loadDefault();
  for (const char* id : {"resnet18", "resnet34", "resnet50", "mobilenet_v2", "efficientnet_lite0",
                         "small_cnn", "small_cnn_fmnist"}) {
    const BackboneEntry& e = catalog.get(id);
    const int64_t classes = e.classNames.empty() ? 10 : int64_t(e.classNames.size());
    int64_t n = 0;
    for (const auto& p : createArchitecture(e.architecture, classes, e.channels)->parameters())
      n += p.numel();
    EXPECT_EQ(n, e.parameters) << id;
  }
  // Text encoders have no original classifier: the catalog counts the encoder alone.
  for (const char* id : {"minilm_l6", "bert_l6_h384_scratch"}) {
    const BackboneEntry& e = catalog.get(id);
    EXPECT_TRUE(e.isText());
    int64_t n = 0;
    for (const auto& p : createArchitecture(e.architecture, 2)->named_parameters())
      if (p.key().rfind("head.", 0) != 0) n += p.value().numel();
    EXPECT_EQ(n, e.parameters) << id;
    EXPECT_EQ(e.inputSize, 128);
  }
  EXPECT_EQ(catalog.get("efficientnet_lite0").classNames.size(), 1000u);
  EXPECT_EQ(catalog.get("efficientnet_lite0").classNames[948], "Granny Smith");
  EXPECT_EQ(catalog.get("small_cnn_fmnist").classNames.size(), 10u);
  EXPECT_THROW(catalog.get("vgg"), InvalidArgument);
}

TEST(BackboneCatalog, MalformedCatalogNamesFileAndEntry) {
  test::TempDir dir;
  test::writeText(dir / "c.json",
                  R"({"backbones":[{"id":"x","name":"X","architecture":"resnet18"}]})");
  try {
    BackboneCatalog::load(dir / "c.json");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("c.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("\"x\""), std::string::npos) << e.what();
  }
  test::writeText(dir / "bad.json", "[1,2");
  EXPECT_THROW(BackboneCatalog::load(dir / "bad.json"), FormatError);
}

TEST(BackboneLoader, MissingOfflineWeightsExplainHowToGetThem) {
  ScopedCache cache;
  const auto catalog = BackboneCatalog::loadDefault();
  try {
    resolveWeights(catalog, catalog.get("efficientnet_lite0"), true);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/fetch-weights"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(weightsAvailableOffline(catalog, catalog.get("resnet18")));
  EXPECT_THROW(resolveWeights(catalog, catalog.get("resnet18"), false), IoError);
}

TEST(BackboneLoader, DownloadsIntoTheCacheWithChecksumThenLoads) {
  ScopedCache cache;
  test::TempDir dir;
  // Serve small-CNN weights from 127.0.0.1 and point a one-entry catalog at them.
  auto source = createArchitecture("small_cnn", 10, 1);
  writeSafetensors(dir / "w.safetensors", stateDictOf(*source));
  std::ifstream in(dir / "w.safetensors", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  test::LocalHttpServer server(bytes, test::LocalHttpServer::Mode::Normal);
  const std::string sha = sha256File(dir / "w.safetensors");
  test::writeText(
      dir / "catalog.json",
      R"({"backbones":[{"id":"tiny","name":"Tiny","architecture":"small_cnn","modality":"image",)"
      R"("input_size":28,"channels":1,"mean":[0.5],"std":[0.5],"parameters":94186,"licence":"MIT",)"
      R"("weights":{"file":"tiny.safetensors","format":"safetensors","url":")" +
          server.url() + R"(","sha256":")" + sha + R"("}}]})");
  const auto catalog = BackboneCatalog::load(dir / "catalog.json");
  EXPECT_FALSE(weightsAvailableOffline(catalog, catalog.get("tiny")));
  const LoadedBackbone b = loadBackbone(catalog, "tiny");
  EXPECT_TRUE(b.report.complete()) << b.report.summary();
  EXPECT_TRUE(torch::equal(b.net->named_parameters()["block1.0.weight"],
                           source->named_parameters()["block1.0.weight"]));
  EXPECT_TRUE(std::filesystem::exists(cache.dir() / "tiny.safetensors"));
  EXPECT_TRUE(weightsAvailableOffline(catalog, catalog.get("tiny")));
}

TEST(BackboneLoader, WeightsThatDoNotFitAreRejectedWithEveryMismatch) {
  test::TempDir dir;
  writeSafetensors(dir / "r18.safetensors", stateDictOf(*createArchitecture("small_cnn", 10, 3)));
  const auto catalog = BackboneCatalog::loadDefault();
  BackboneLoadOptions o;
  o.weightsOverride = dir / "r18.safetensors";
  try {
    loadBackbone(catalog, "small_cnn", o);  // grey-input architecture, RGB weights
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(
        std::string(e.what()).find("block1.0.weight: file [32, 3, 3, 3] vs model [32, 1, 3, 3]"),
        std::string::npos)
        << e.what();
  }
}

TEST(BackboneLoader, BundledPretrainedSmallCnnLoads) {
  const auto catalog = BackboneCatalog::loadDefault();
  const LoadedBackbone b = loadBackbone(catalog, "small_cnn_fmnist");
  EXPECT_TRUE(b.report.complete()) << b.report.summary();
  EXPECT_EQ(b.net->numClasses(), 10);
}

TEST(TorchScript, ImportShowsTheModuleTreeAndRuns) {
  const std::string file = std::string(TLAB_TEST_DATA_DIR) + "/weights/tiny_script.pt";
  trustFile(file);  // the user's decision; without it loading is refused (tests/core/security)
  const auto module = loadTorchScript(file);
  const LayerNode tree = buildLayerTree(module);
  ASSERT_EQ(tree.children.size(), 2u);
  EXPECT_EQ(tree.children[0].name, "features");
  EXPECT_EQ(tree.children[1].name, "fc");
  EXPECT_EQ(tree.params, (4 * 3 * 9 + 4) + (4 + 4) + (4 * 3 + 3));
  auto m = module;
  m.eval();
  const auto y = m.forward({torch::zeros({2, 3, 8, 8})}).toTensor();
  EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{2, 3}));
}

TEST(TorchScript, BrokenFilesAreClearErrors) {
  test::TempDir dir;
  test::writeText(dir / "x.pt", "garbage");
  trustFile(dir / "x.pt");
  EXPECT_THROW(loadTorchScript(dir / "x.pt"), FormatError);
  EXPECT_THROW(loadTorchScript(dir / "missing.pt"), IoError);
}

}  // namespace
}  // namespace tlab::core

namespace tlab::core {
namespace {

TEST(BackboneLoader, RealEfficientNetLite0WeightsLoadCompletely) {
  const auto catalog = BackboneCatalog::loadDefault();
  const auto& entry = catalog.get("efficientnet_lite0");
  if (!weightsAvailableOffline(catalog, entry)) GTEST_SKIP() << "run scripts/fetch-weights first";
  const LoadedBackbone b = loadBackbone(catalog, "efficientnet_lite0", {});
  EXPECT_TRUE(b.report.complete()) << b.report.summary();
  EXPECT_EQ(b.report.loaded.size(), 296u);
  EXPECT_EQ(sha256File(b.weightsPath), entry.weights->sha256);
  // A flat grey image is no ImageNet object: the prediction must not be confidently anything,
  // while the network must produce a proper distribution.
  b.net->eval();
  torch::NoGradGuard noGrad;
  const auto p = torch::softmax(b.net->forward(torch::zeros({1, 3, 224, 224})), 1);
  EXPECT_NEAR(p.sum().item<double>(), 1.0, 1e-4);
  EXPECT_LT(p.max().item<double>(), 0.9);
}

}  // namespace
}  // namespace tlab::core
