// Exporting from the Predict page: a verified bundle with model.onnx written in the background,
// a clear error for a bad target, Stop, and the ONNX action disabled for TorchScript backbones.
#include <gtest/gtest.h>

#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include <QEventLoop>
#include <QPushButton>
#include <QSignalSpy>
#include <QTimer>
#include <filesystem>

#include "core/TestImages.h"
#include "core/model/ImageClassifier.h"
#include "core/model/ScriptBackbone.h"
#include "core/train/ModelBundle.h"
#include "core/util/FileUtil.h"
#include "core/util/Trust.h"
#include "core/zoo/BackboneLoader.h"
#include "ui/controllers/PredictController.h"
#include "ui/pages/PredictPage.h"

namespace tlab::ui {
namespace {
namespace fs = std::filesystem;

core::ModelBundleInfo info(const std::string& arch, int size, int channels) {
  core::ModelBundleInfo i;
  i.architecture = arch;
  i.backbone = arch;
  i.head.numClasses = 3;
  i.classNames = {"a", "b", "c"};
  i.preprocess.inputSize = size;
  i.preprocess.channels = channels;
  return i;
}

core::ImageClassifier net(const std::string& arch, int channels) {
  auto n = core::createArchitecture(arch, 10, channels);
  core::HeadSpec h;
  h.numClasses = 3;
  n->replaceHead(h);
  n->eval();
  return n;
}

TEST(PredictExport, WritesAVerifiedBundleWithOnnxInTheBackground) {
  test::TempDir dir;
  PredictController c;
  // ResNet-18: big enough (2 x 45 MB written and read back) for the 100 ms progress poll.
  c.setModel(net("resnet18", 3), info("resnet18", 64, 3), "resnet");
  ASSERT_TRUE(c.canExportOnnx());
  QSignalSpy steps(&c, &PredictController::exportProgress);
  QSignalSpy done(&c, &PredictController::exported);
  const QString target = QString::fromStdString((dir / "bundle").string());
  c.exportModel(target, true);
  EXPECT_TRUE(c.isBusy());
  ASSERT_TRUE(done.wait(60000));
  const auto args = done.takeFirst();
  EXPECT_EQ(args.at(0).toString(), target);
  EXPECT_TRUE(args.at(2).toString().isEmpty()) << args.at(2).toString().toStdString();
  EXPECT_TRUE(args.at(1).toString().contains("model.onnx: 16 samples, top-1 identical"))
      << args.at(1).toString().toStdString();
  ASSERT_GE(steps.count(), 1);  // what, how far: "writing model.onnx", 1 of 6
  EXPECT_FALSE(steps.at(0).at(0).toString().isEmpty());
  EXPECT_GT(steps.at(0).at(2).toInt(), steps.at(0).at(1).toInt());
  EXPECT_TRUE(fs::exists(dir / "bundle" / "model.onnx"));
  EXPECT_NO_THROW(core::loadModelBundle(dir / "bundle"));
}

TEST(PredictExport, ATargetThatIsAFileFailsWithItsName) {
  test::TempDir dir;
  test::writeText(dir / "taken", "keep me");
  PredictController c;
  c.setModel(net("small_cnn", 1), info("small_cnn", 28, 1), "small");
  QSignalSpy done(&c, &PredictController::exported);
  c.exportModel(QString::fromStdString((dir / "taken").string()), true);
  ASSERT_TRUE(done.wait(60000));
  const QString error = done.takeFirst().at(2).toString();
  EXPECT_TRUE(error.contains("taken") && error.contains("not a folder")) << error.toStdString();
  EXPECT_EQ(core::readTextFile(dir / "taken", 100), "keep me");
}

TEST(PredictExport, StopLeavesNothingBehind) {
  test::TempDir dir;
  PredictController c;
  c.setModel(net("resnet18", 3), info("resnet18", 96, 3), "resnet");
  QSignalSpy done(&c, &PredictController::exported);
  c.exportModel(QString::fromStdString((dir / "bundle").string()), true);
  c.cancel();
  ASSERT_TRUE(done.wait(60000));
  EXPECT_TRUE(done.takeFirst().at(2).toString().contains("stopped"));
  EXPECT_FALSE(fs::exists(dir / "bundle"));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(PredictExport, OnnxIsDisabledForATorchScriptBackboneAndSaysWhy) {
  const fs::path script = fs::path(TLAB_TEST_DATA_DIR) / "weights" / "tiny_script.pt";
  core::trustFile(script);
  auto s = std::make_shared<core::ScriptBackboneImpl>(core::loadTorchScript(script), 16, 3, 3);
  PredictController c;
  c.setModel(s, info("torchscript", 16, 3), "script");
  EXPECT_FALSE(c.canExportOnnx());
  PredictPage page(&c);
  QPushButton* onnx = nullptr;
  for (auto* b : page.findChildren<QPushButton*>())
    if (b->text().startsWith("Export ONNX")) onnx = b;
  ASSERT_NE(onnx, nullptr);
  EXPECT_FALSE(onnx->isEnabled());
  EXPECT_TRUE(onnx->toolTip().contains("TorchScript")) << onnx->toolTip().toStdString();
  c.setModel(net("small_cnn", 1), info("small_cnn", 28, 1), "small");
  EXPECT_TRUE(onnx->isEnabled());
}

}  // namespace
}  // namespace tlab::ui
