// Training on a TorchScript-imported backbone, and the TorchScript export of the result.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <opencv2/imgproc.hpp>

#include "core/TestImages.h"
#include "core/model/ScriptBackbone.h"
#include "core/train/ModelBundle.h"
#include "core/train/Trainer.h"
#include "core/util/Random.h"
#include "core/util/Trust.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace {

class BarsStore : public ImageStore {
 public:
  cv::Mat image(int64_t index) const override {
    cv::Mat m(28, 28, CV_8UC3, cv::Scalar(20, 20, 20));
    const cv::Rect shapes[2] = {{3, 11, 22, 6}, {11, 3, 6, 22}};
    cv::rectangle(m, shapes[index % 2], cv::Scalar(230, 200, 180), cv::FILLED);
    return m;
  }
};

std::shared_ptr<Dataset> bars() {
  auto ds = std::make_shared<Dataset>();
  ds->source = "bars";
  ds->classNames = {"horizontal", "vertical"};
  ds->store = std::make_shared<BarsStore>();
  for (int i = 0; i < 80; ++i) {
    Sample s;
    s.index = i;
    s.label = i % 2;
    s.split = i < 48 ? Split::Train : (i < 64 ? Split::Val : Split::Test);
    ds->samples.push_back(s);
  }
  return ds;
}

const std::string kScript = std::string(TLAB_TEST_DATA_DIR) + "/weights/tiny_script.pt";

TEST(ScriptBackbone, MirrorsParametersSoFreezingAndTheTreeWork) {
  trustFile(kScript);
  ScriptBackboneImpl net(loadTorchScript(kScript), 16, 3, 2);
  EXPECT_EQ(net.featureDim(), 3);  // the script's output is its 3 logits
  const auto params = net.named_parameters();
  EXPECT_TRUE(params.contains("backbone.features.0.weight"));
  EXPECT_TRUE(params.contains("fc.weight"));
  EXPECT_EQ(net.stages().size(), 2u);
  // The mirror shares storage with the TorchScript module: an in-place change is seen by both.
  torch::NoGradGuard g;
  params["backbone.fc.bias"].add_(1.0);
  EXPECT_TRUE(torch::equal(net.script().attr("fc").toModule().attr("bias").toTensor(),
                           params["backbone.fc.bias"]));
}

TEST(ScriptBackbone, FineTunesAndExportsTorchScript) {
  test::TempDir dir;
  trustFile(kScript);
  TrainConfig c;
  c.backbone = kScript;
  c.strategy = Strategy::Full;
  c.epochs = 3;
  c.batchSize = 8;
  c.lr = 1e-2;
  c.imageSize = 28;
  c.augmentation.enabled = false;
  c.featureCache = false;
  Trainer t(c, bars(), {});
  t.start();
  t.join();
  const auto& r = t.result();
  ASSERT_EQ(r.state, RunState::Finished) << r.error;
  EXPECT_EQ(r.architecture, "torchscript");
  // Full fine-tuning moved the imported weights themselves (shared with the TorchScript module).
  auto* script = dynamic_cast<ScriptBackboneImpl*>(t.model().get());
  ASSERT_NE(script, nullptr);
  EXPECT_FALSE(torch::equal(
      loadTorchScript(kScript)
          .attr("features")
          .toModule()
          .attr("0")
          .toModule()
          .attr("weight")
          .toTensor(),
      script->script().attr("features").toModule().attr("0").toModule().attr("weight").toTensor()));
  ASSERT_TRUE(r.test.has_value());
  exportModelBundle(dir / "model", *t.model(),
                    {r.architecture,
                     c.backbone,
                     {HeadSpec::Kind::Linear, 2, 256, 0.2},
                     r.classNames,
                     r.preprocess,
                     1.0,
                     0.5,
                     {}});
  EXPECT_TRUE(std::filesystem::exists(dir / "model/backbone.pt"));
  ASSERT_TRUE(std::filesystem::exists(dir / "model/model.pt"));
  // The exported bundle carries TorchScript: it opens only once the user trusts it.
  EXPECT_THROW(loadModelBundle(dir / "model"), UntrustedFileError);
  trustFile(dir / "model/backbone.pt");
  const LoadedModel bundle = loadModelBundle(dir / "model");
  auto exported = torch::jit::load((dir / "model/model.pt").string());
  exported.eval();
  torch::NoGradGuard g;
  t.model()->eval();
  const auto x = torch::randn({2, 3, 28, 28});
  const auto expected = t.model()->forward(x);
  EXPECT_TRUE(torch::allclose(bundle.net->forward(x), expected, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(exported.forward({x}).toTensor(), expected, 1e-5, 1e-6));
}

TEST(ScriptBackbone, LinearProbeLeavesTheScriptUntouched) {
  trustFile(kScript);
  TrainConfig c;
  c.backbone = kScript;
  c.strategy = Strategy::LinearProbe;
  c.epochs = 2;
  c.batchSize = 8;
  c.imageSize = 28;
  c.featureCache = false;
  const auto before = loadTorchScript(kScript);
  Trainer t(c, bars(), {});
  t.start();
  t.join();
  ASSERT_EQ(t.result().state, RunState::Finished) << t.result().error;
  auto* script = dynamic_cast<ScriptBackboneImpl*>(t.model().get());
  ASSERT_NE(script, nullptr);
  auto a = before.named_parameters(), b = script->script().named_parameters();
  auto ia = a.begin();
  for (auto ib = b.begin(); ia != a.end() && ib != b.end(); ++ia, ++ib) {
    EXPECT_EQ((*ia).name, (*ib).name);
    EXPECT_TRUE(torch::equal((*ia).value, (*ib).value)) << (*ia).name;
  }
  // BatchNorm statistics of the frozen script stayed put too.
  auto ba = before.named_buffers(), bb = script->script().named_buffers();
  auto ja = ba.begin();
  for (auto jb = bb.begin(); ja != ba.end() && jb != bb.end(); ++ja, ++jb) {
    EXPECT_TRUE(torch::equal((*ja).value, (*jb).value)) << (*ja).name;
  }
}

}  // namespace
}  // namespace tlab::core
