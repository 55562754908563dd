// ONNX export of every built-in architecture, run back through OnnxRunner (which executes the
// stored graph, not the network), and the verified bundle export with its failure modes.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/TextFixtures.h"
#include "core/export/OnnxExport.h"
#include "core/export/OnnxRunner.h"
#include "core/export/VerifiedExport.h"
#include "core/model/BatchNormFolding.h"
#include "core/model/ImageClassifier.h"
#include "core/model/ScriptBackbone.h"
#include "core/model/SmallCnn.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/ModelBundle.h"
#include "core/util/FileUtil.h"
#include "core/util/Trust.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

// Files and folders directly in `dir` (hidden ones too: a temporary folder must not be left).
int entriesIn(const fs::path& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

// A network with non-trivial BatchNorm statistics (so folding matters) in eval mode.
ImageClassifier randomNet(const std::string& arch, int64_t classes, int64_t channels,
                          HeadSpec::Kind head = HeadSpec::Kind::Linear) {
  torch::manual_seed(7);
  auto net = createArchitecture(arch, 10, channels);
  HeadSpec h;
  h.kind = head;
  h.numClasses = classes;
  h.hidden = 16;
  net->replaceHead(h);
  torch::NoGradGuard g;
  for (auto& b : net->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.2, 0.2);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
  }
  net->eval();
  return net;
}

ModelBundleInfo imageInfo(const std::string& arch, int64_t classes, int size, int channels) {
  ModelBundleInfo info;
  info.architecture = arch;
  info.backbone = arch;
  info.head.numClasses = classes;
  for (int64_t c = 0; c < classes; ++c) info.classNames.push_back("class" + std::to_string(c));
  info.preprocess.inputSize = size;
  info.preprocess.channels = channels;
  return info;
}

// Largest probability difference between the network and its ONNX file on `x`.
double onnxDifference(ImageClassifierImpl& net, const OnnxRunner& runner, const torch::Tensor& x) {
  torch::NoGradGuard g;
  const auto expected = torch::softmax(net.forward(x), 1);
  const auto got = runner.run({{"input", x}});
  EXPECT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(torch::equal(got.argmax(1), expected.argmax(1)));
  return (got - expected).abs().max().item<double>();
}

struct Case {
  std::string arch;
  int size, channels;
  HeadSpec::Kind head;
};

class OnnxArchitecture : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxArchitecture, RunsBackToTheModelsProbabilitiesAtAnyBatchSize) {
  const Case& c = GetParam();
  TempDir dir;
  auto net = randomNet(c.arch, 5, c.channels, c.head);
  const auto info = imageInfo(c.arch, 5, c.size, c.channels);
  const auto summary = exportOnnx(dir / "model.onnx", *net, info);
  EXPECT_GT(summary.bytes, 1000);
  EXPECT_EQ(summary.opset, 17);
  const OnnxRunner runner(dir / "model.onnx");
  EXPECT_EQ(runner.metadata().at("architecture"), c.arch);
  EXPECT_EQ(nlohmann::json::parse(runner.metadata().at("class_names")).size(), 5u);
  const auto pre = nlohmann::json::parse(runner.metadata().at("preprocess"));
  EXPECT_EQ(pre.at("input_size").get<int>(), c.size);
  EXPECT_EQ(runner.inputNames(), std::vector<std::string>{"input"});
  torch::manual_seed(3);
  for (int64_t batch : {1, 3}) {
    const auto x = torch::randn({batch, c.channels, c.size, c.size});
    EXPECT_LT(onnxDifference(*net, runner, x), 1e-5) << c.arch << " batch " << batch;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Builtin, OnnxArchitecture,
    ::testing::Values(Case{"small_cnn", 28, 1, HeadSpec::Kind::Linear},
                      Case{"small_cnn", 32, 3, HeadSpec::Kind::Mlp},
                      Case{"resnet18", 64, 3, HeadSpec::Kind::Linear},
                      Case{"resnet50", 64, 3, HeadSpec::Kind::Linear},
                      Case{"mobilenet_v2", 64, 3, HeadSpec::Kind::Linear},
                      // An odd size: TF-"SAME" pads one more pixel at the bottom/right.
                      Case{"efficientnet_lite0", 65, 3, HeadSpec::Kind::Mlp}),
    [](const auto& info) {
      return info.param.arch + "_" + std::to_string(info.param.size) +
             (info.param.head == HeadSpec::Kind::Mlp ? "_mlp" : "");
    });

TEST(OnnxExport, TextModelTakesIdsAndMaskAndIgnoresPadding) {
  test::TinyTextCatalog catalog;
  torch::manual_seed(11);
  auto net = createArchitecture("bert_l2_h32_a4", 3);
  HeadSpec h;
  h.numClasses = 3;
  net->replaceHead(h);
  net->eval();
  ModelBundleInfo info;
  info.architecture = "bert_l2_h32_a4";
  info.classNames = {"a", "b", "c"};
  info.head.numClasses = 3;
  info.preprocess.inputSize = 16;
  info.preprocess.channels = 1;
  info.preprocess.tokenizer = WordPieceTokenizer::load(catalog.directory() / "tiny-vocab.txt");
  TempDir dir;
  exportOnnx(dir / "model.onnx", *net, info);
  const OnnxRunner runner(dir / "model.onnx");
  EXPECT_EQ(runner.inputNames(), (std::vector<std::string>{"input_ids", "attention_mask"}));
  EXPECT_EQ(runner.metadata().at("modality"), "text");
  EXPECT_NE(runner.metadata().at("vocab").find("[CLS]"), std::string::npos);
  std::vector<std::string> texts = {test::topicSentence(0),
                                    test::topicSentence(1) + " " + test::topicSentence(4)};
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const auto t = info.preprocess.tokenizer->encodeBatch(views, 16, Padding::Longest);
  const auto ids = torch::tensor(t.ids).view({t.count, t.length});
  const auto mask = torch::tensor(t.mask).view({t.count, t.length});
  ASSERT_EQ(mask.sum().item<int64_t>() < t.count * t.length, true) << "one text must be padded";
  torch::NoGradGuard g;
  const auto expected = torch::softmax(net->forward(torch::stack({ids, mask}, 1)), 1);
  const auto got = runner.run({{"input_ids", ids}, {"attention_mask", mask}});
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
  EXPECT_TRUE(torch::equal(got.argmax(1), expected.argmax(1)));
  // The first text alone, unpadded, gets the same probabilities: padding is masked out.
  const int64_t n0 = mask[0].sum().item<int64_t>();
  const auto alone = runner.run({{"input_ids", ids.slice(0, 0, 1).slice(1, 0, n0)},
                                 {"attention_mask", mask.slice(0, 0, 1).slice(1, 0, n0)}});
  EXPECT_LT((alone[0] - got[0]).abs().max().item<double>(), 1e-5);
}

TEST(OnnxExport, TorchScriptBackboneIsRefusedByName) {
  trustFile(std::string(TLAB_TEST_DATA_DIR) + "/weights/tiny_script.pt");
  ScriptBackboneImpl net(
      loadTorchScript(std::string(TLAB_TEST_DATA_DIR) + "/weights/tiny_script.pt"), 16, 3, 2);
  auto info = imageInfo("torchscript", 2, 16, 3);
  TempDir dir;
  try {
    exportOnnx(dir / "model.onnx", net, info);
    FAIL() << "exported a TorchScript backbone";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("TorchScript"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "model.onnx"));
}

TEST(OnnxRunner, RejectsFilesThatAreNotItsOwn) {
  TempDir dir;
  test::writeText(dir / "junk.onnx", "this is not a protobuf \xff\xfe");
  EXPECT_THROW(OnnxRunner(dir / "junk.onnx"), FormatError);
  // A valid export whose weights were cut short: the initializer check names the tensor.
  auto net = randomNet("small_cnn", 3, 1);
  exportOnnx(dir / "ok.onnx", *net, imageInfo("small_cnn", 3, 28, 1));
  const auto bytes = readFileBytes(dir / "ok.onnx", 1 << 30);
  test::writeText(dir / "cut.onnx", std::string(bytes.begin(), bytes.begin() + bytes.size() / 2));
  EXPECT_THROW(OnnxRunner(dir / "cut.onnx"), FormatError);
}

// --- verified bundle export ---

VerificationInputs randomFor(const ModelBundleInfo& info) {
  return verificationInputs(nullptr, info, 4);
}

TEST(VerifiedExport, WritesVerifiesAndRecordsEveryFile) {
  TempDir dir;
  auto net = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  ExportOptions o;
  o.onnx = true;
  std::vector<std::string> steps;
  const auto r = exportVerifiedBundle(dir / "bundle", *net, info, randomFor(info), o,
                                      [&](const std::string& s, int, int) { steps.push_back(s); });
  ASSERT_EQ(r.checks.size(), 2u);
  for (const auto& c : r.checks) {
    EXPECT_TRUE(c.ok()) << c.file;
    EXPECT_EQ(c.samples, 4);
    EXPECT_LT(c.maxProbabilityDifference, 1e-5);
  }
  EXPECT_GE(steps.size(), 4u);
  const auto meta = nlohmann::json::parse(readTextFile(dir / "bundle" / "model.json", 1 << 20));
  EXPECT_EQ(meta.at("verified").at("samples").get<int>(), 4);
  EXPECT_TRUE(meta.at("verified").at("files").contains("model.onnx"));
  EXPECT_EQ(meta.at("onnx").at("opset").get<int>(), 17);
  EXPECT_TRUE(fs::exists(dir / "bundle" / "model.onnx"));
  // Nothing is left beside it.
  EXPECT_EQ(entriesIn(dir.path()), 1);
}

TEST(VerifiedExport, VerificationSeesAChangedFile) {
  // The comparison itself: a bundle whose ONNX weights were altered no longer agrees.
  TempDir dir;
  auto net = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  exportOnnx(dir / "model.onnx", *net, info);
  {
    torch::NoGradGuard g;
    for (auto& p : net->named_parameters())
      if (p.key() == "fc.1.weight") p.value().mul_(-3.0);
  }
  const OnnxRunner runner(dir / "model.onnx");
  torch::manual_seed(5);
  const auto x = torch::randn({8, 1, 28, 28});
  torch::NoGradGuard g;
  const double diff =
      (runner.run({{"input", x}}) - torch::softmax(net->forward(x), 1)).abs().max().item<double>();
  EXPECT_GT(diff, kExportTolerance);
}

// A network whose in-memory predictions are not what its saved weights give (as an exporter
// bug would make them): its features are shifted by a constant that no file records.
class DriftingCnnImpl : public SmallCnnImpl {
 public:
  DriftingCnnImpl() : SmallCnnImpl(10, 1) {}
  torch::Tensor features(torch::Tensor x) override { return SmallCnnImpl::features(x) + 5.0; }
};

TEST(VerifiedExport, ADisagreementFailsWithTheDifferenceAndChangesNothing) {
  TempDir dir;
  auto good = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  exportVerifiedBundle(dir / "bundle", *good, info, randomFor(info));
  const std::string before = readTextFile(dir / "bundle" / "model.json", 1 << 20);
  auto drifting = std::make_shared<DriftingCnnImpl>();
  HeadSpec h;
  h.numClasses = 3;
  drifting->replaceHead(h);
  drifting->eval();
  ExportOptions o;
  o.onnx = true;
  std::string message;
  try {
    exportVerifiedBundle(dir / "bundle", *drifting, info, randomFor(info), o);
  } catch (const Error& e) {
    message = e.what();
  }
  RecordProperty("message", message);  // in the XML report (--gtest_output=xml)
  EXPECT_NE(message.find("export verification failed"), std::string::npos) << message;
  EXPECT_NE(message.find("model.safetensors: 4 samples"), std::string::npos) << message;
  EXPECT_NE(message.find("model.onnx: 4 samples"), std::string::npos) << message;
  EXPECT_NE(message.find("largest probability difference"), std::string::npos) << message;
  EXPECT_EQ(readTextFile(dir / "bundle" / "model.json", 1 << 20), before);
  EXPECT_FALSE(fs::exists(dir / "bundle" / "model.onnx"));
  EXPECT_EQ(entriesIn(dir.path()), 1);
}

TEST(VerifiedExport, ReplacesABundleButRefusesOtherFolders) {
  TempDir dir;
  auto net = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  exportVerifiedBundle(dir / "bundle", *net, info, randomFor(info));
  test::writeText(dir / "bundle" / "note.txt", "mine");
  exportVerifiedBundle(dir / "bundle", *net, info, randomFor(info));  // replaced, not merged
  EXPECT_FALSE(fs::exists(dir / "bundle" / "note.txt"));
  // A trailing slash (as shells complete folder names) names the same folder.
  exportVerifiedBundle((dir / "bundle").string() + "/", *net, info, randomFor(info));
  EXPECT_TRUE(fs::exists(dir / "bundle" / "model.json"));
  EXPECT_EQ(entriesIn(dir / "bundle"), 2) << "model.safetensors and model.json only";
  fs::create_directories(dir / "photos");
  test::writeText(dir / "photos" / "cat.jpg", "not a bundle");
  try {
    exportVerifiedBundle(dir / "photos", *net, info, randomFor(info));
    FAIL() << "wrote into a folder of other files";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("other files"), std::string::npos) << e.what();
  }
  EXPECT_EQ(readTextFile(dir / "photos" / "cat.jpg", 100), "not a bundle");
}

TEST(VerifiedExport, ALeftoverOfAKilledExportIsCleanedUp) {
  TempDir dir;
  // A process that no longer exists: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  const fs::path stale = dir / (".bundle.partial-" + std::to_string(child) + "-1");
  fs::create_directories(stale);
  test::writeText(stale / "model.safetensors", "half");
  // One of a live process (this one's parent) stays: it may still be writing.
  const fs::path live = dir / (".bundle.partial-" + std::to_string(::getppid()) + "-2");
  fs::create_directories(live);
  auto net = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  exportVerifiedBundle(dir / "bundle", *net, info, randomFor(info));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
}

TEST(VerifiedExport, ATargetThatIsAFileIsRefusedAndKept) {
  TempDir dir;
  test::writeText(dir / "model", "a file");
  auto net = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  try {
    exportVerifiedBundle(dir / "model", *net, info, randomFor(info));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a folder"), std::string::npos) << e.what();
  }
  EXPECT_EQ(readTextFile(dir / "model", 100), "a file");
  // A path under a file cannot be a folder either.
  EXPECT_THROW(exportVerifiedBundle(dir / "model" / "inner", *net, info, randomFor(info)), IoError);
}

TEST(VerifiedExport, AReadOnlyPlaceGivesAClearError) {
  // /proc refuses new folders even for root (chmod would not stop root, who runs CI).
  auto net = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  try {
    exportVerifiedBundle("/proc/tlab-export-test/bundle", *net, info, randomFor(info));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/tlab-export-test"), std::string::npos) << e.what();
  }
  if (::geteuid() != 0) {  // and a read-only folder, where permissions apply
    TempDir dir;
    fs::create_directories(dir / "ro");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(exportVerifiedBundle(dir / "ro" / "bundle", *net, info, randomFor(info)), IoError);
    fs::permissions(dir / "ro", fs::perms::owner_all);
    EXPECT_TRUE(fs::is_empty(dir / "ro"));
  }
}

TEST(VerifiedExport, AFullDiskLeavesTheOldBundleAndNoHalfWrittenOne) {
  TempDir dir;
  auto small = randomNet("small_cnn", 3, 1);
  const auto info = imageInfo("small_cnn", 3, 28, 1);
  exportVerifiedBundle(dir / "bundle", *small, info, randomFor(info));
  const std::string before = readTextFile(dir / "bundle" / "model.json", 1 << 20);
  // Writes past 64 KiB fail (EFBIG), as on a full disk; ResNet-18's weights need 45 MB.
  auto big = randomNet("resnet18", 3, 3);
  const auto bigInfo = imageInfo("resnet18", 3, 32, 3);
  const auto inputs = randomFor(bigInfo);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limit = old;
  limit.rlim_cur = 64 << 10;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  std::string message;
  try {
    exportVerifiedBundle(dir / "bundle", *big, bigInfo, inputs);
  } catch (const IoError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);
  EXPECT_NE(message.find("nothing was changed"), std::string::npos) << message;
  EXPECT_EQ(readTextFile(dir / "bundle" / "model.json", 1 << 20), before);
  EXPECT_NO_THROW(loadModelBundle(dir / "bundle"));
  EXPECT_EQ(entriesIn(dir.path()), 1) << "a temporary folder was left behind";
}

TEST(VerifiedExport, TorchScriptBundleVerifiesItsModelPt) {
  trustFile(std::string(TLAB_TEST_DATA_DIR) + "/weights/tiny_script.pt");
  auto script = std::make_shared<ScriptBackboneImpl>(
      loadTorchScript(std::string(TLAB_TEST_DATA_DIR) + "/weights/tiny_script.pt"), 16, 3, 2);
  ScriptBackboneImpl& net = *script;
  HeadSpec head;  // as the trainer does: the bundle describes a replaced head
  head.numClasses = 2;
  net.replaceHead(head);
  net.eval();
  auto info = imageInfo("torchscript", 2, 16, 3);
  TempDir dir;
  const auto r = exportVerifiedBundle(dir / "b", net, info, randomFor(info));
  std::vector<std::string> files;
  for (const auto& c : r.checks) {
    files.push_back(c.file);
    EXPECT_TRUE(c.ok()) << c.file << " " << c.maxProbabilityDifference;
  }
  EXPECT_EQ(files, (std::vector<std::string>{"model.safetensors", "model.pt"}));
  // The committed bundle's TorchScript is not trusted on the exporter's behalf.
  EXPECT_THROW(loadModelBundle(dir / "b"), UntrustedFileError);
  ExportOptions o;
  o.onnx = true;
  EXPECT_THROW(exportVerifiedBundle(dir / "c", net, info, randomFor(info), o), InvalidArgument);
  EXPECT_FALSE(fs::exists(dir / "c"));
}

}  // namespace
}  // namespace tlab::core
