#include "core/export/VerifiedExport.h"

#include <ATen/CPUGeneratorImpl.h>
#include <signal.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "core/Errors.h"
#include "core/dataset/Dataset.h"
#include "core/export/OnnxRunner.h"
#include "core/model/BatchNormFolding.h"
#include "core/model/ScriptBackbone.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/ModelBundle.h"
#include "core/train/ModelInput.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"
#include "core/util/Trust.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kVerifySeed = 20261202;

torch::Tensor tokensOf(const std::vector<std::string>& texts, const Preprocess& p) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const TokenBatch t = p.tokenizer->encodeBatch(views, size_t(p.inputSize), Padding::Longest);
  auto ids = torch::tensor(t.ids, torch::kLong).view({t.count, t.length});
  auto mask = torch::tensor(t.mask, torch::kLong).view({t.count, t.length});
  return torch::stack({ids, mask}, 1);
}

VerificationInputs randomInputs(const ModelBundleInfo& info, int max) {
  VerificationInputs in;
  const auto& p = info.preprocess;
  auto gen = at::detail::createCPUGenerator(kVerifySeed);
  if (p.tokenizer) {
    // Token ids across the vocabulary, with rows of different lengths (padding exercised).
    const int64_t len = std::min<int64_t>(p.inputSize, 24);
    auto ids = torch::randint(int64_t(p.tokenizer->vocabSize()), {max, len}, gen, torch::kLong);
    auto mask = torch::ones({max, len}, torch::kLong);
    for (int64_t i = 0; i < max; ++i) {
      const int64_t keep = 2 + (i * 7) % std::max<int64_t>(1, len - 1);
      if (keep < len) {
        mask[i].slice(0, keep).zero_();
        ids[i].slice(0, keep).zero_();
      }
    }
    in.batches.push_back(torch::stack({ids, mask}, 1));
  } else {
    in.batches.push_back(
        torch::randn({max, p.channels, p.inputSize, p.inputSize}, gen, torch::kFloat));
  }
  in.samples = max;
  in.source = std::to_string(max) + " seeded random inputs (no dataset samples available)";
  return in;
}

torch::Tensor concat(const std::vector<torch::Tensor>& parts) {
  return parts.size() == 1 ? parts[0] : torch::cat(parts);
}

// Probabilities [N, classes] on the CPU.
// `forward` gives logits, or probabilities already when `isSoftmax`.
torch::Tensor probabilities(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                            const VerificationInputs& in, bool isSoftmax = false) {
  std::vector<torch::Tensor> out;
  for (const auto& b : in.batches) {
    const torch::Tensor y = forward(b).to(torch::kCPU).to(torch::kFloat);
    out.push_back(isSoftmax ? y : torch::softmax(y, 1));
  }
  return concat(out);
}

// Puts a module back into training mode on scope exit when it was in it.
struct RestoreMode {
  torch::nn::Module& net;
  bool training;
  ~RestoreMode() { net.train(training); }
};

FileCheck compare(const std::string& file, const torch::Tensor& expected,
                  const torch::Tensor& got) {
  FileCheck c;
  c.file = file;
  c.samples = expected.size(0);
  if (got.sizes() != expected.sizes()) {
    c.maxProbabilityDifference = std::numeric_limits<double>::infinity();
    c.top1Mismatches = c.samples;
    return c;
  }
  c.maxProbabilityDifference = (expected - got).abs().max().item<double>();
  if (!std::isfinite(c.maxProbabilityDifference))
    c.maxProbabilityDifference = std::numeric_limits<double>::infinity();
  c.top1Mismatches = (expected.argmax(1) != got.argmax(1)).sum().item<int64_t>();
  return c;
}

std::string checkLine(const FileCheck& c) {
  char diff[32];
  std::snprintf(diff, sizeof diff, "%.2g", c.maxProbabilityDifference);
  return c.file + ": " + std::to_string(c.samples) + " samples, " +
         (c.top1Mismatches == 0 ? std::string("top-1 identical")
                                : "top-1 differs on " + std::to_string(c.top1Mismatches)) +
         ", largest probability difference " + diff;
}

// Removes a folder on scope exit unless released.
struct RemoveOnExit {
  fs::path dir;
  ~RemoveOnExit() {
    if (dir.empty()) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Refuses targets that are not a new folder, an empty folder or a bundle.
void checkTarget(const fs::path& dir) {
  std::error_code ec;
  const auto st = fs::symlink_status(dir, ec);
  if (ec || !fs::exists(st)) return;
  if (!fs::is_directory(st))
    throw IoError(dir.string(), "exists and is not a folder; choose a folder for the bundle");
  if (!fs::is_empty(dir, ec) && !fs::exists(dir / "model.json"))
    throw IoError(dir.string(),
                  "is a folder with other files in it; choose an empty folder or an existing "
                  "model bundle (which is replaced)");
}

// Removes ".NAME.partial-PID-N" folders beside `dir` whose process is gone (an export killed
// mid-way, e.g. by Ctrl-C, leaves its temporary folder; the target itself was never touched).
void removeStalePartials(const fs::path& dir) {
  const std::string prefix = "." + dir.filename().string() + ".partial-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    if (pid <= 0 || pid == long(::getpid())) continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
}

// Up to `max` of `indices` (evenly spread) in the model's preprocessing; samples == 0 when none
// decodes.
VerificationInputs fromSamples(const Dataset& ds, const std::vector<size_t>& indices,
                               const std::string& what, const ModelBundleInfo& info, int max) {
  const auto& p = info.preprocess;
  // Evenly spread over the samples, deterministic.
  std::vector<size_t> pick;
  const size_t n = std::min(indices.size(), size_t(max));
  for (size_t k = 0; k < n; ++k) pick.push_back(indices[k * indices.size() / n]);
  VerificationInputs in;
  if (p.tokenizer) {
    std::vector<std::string> texts;
    for (size_t i : pick) texts.push_back(ds.samples.at(i).text);
    if (!texts.empty()) in.batches.push_back(tokensOf(texts, p));
    in.samples = int64_t(texts.size());
  } else {
    for (size_t i : pick) {
      const DecodedImage img = ds.loadImage(i);
      if (!img.ok()) continue;
      in.batches.push_back(imageInput(img.pixels, p));
      ++in.samples;
    }
    if (in.samples > 0) in.batches = {torch::cat(in.batches)};
  }
  in.source = std::to_string(in.samples) + " samples of " + (what.empty() ? "" : what + " of ") +
              ds.source.string();
  return in;
}

}  // namespace

VerificationInputs verificationInputs(const Dataset& ds, const std::vector<size_t>& indices,
                                      const std::string& what, const ModelBundleInfo& info,
                                      int max) {
  max = std::max(1, max);
  auto in = fromSamples(ds, indices, what, info, max);
  return in.samples > 0 ? in : randomInputs(info, max);
}

VerificationInputs verificationInputs(const Dataset* ds, const ModelBundleInfo& info, int max) {
  max = std::max(1, max);
  if (!ds) return randomInputs(info, max);
  // A dataset without a stored split (a folder the trainer splits itself) offers all samples.
  for (const Split split : {Split::Val, Split::Test, Split::Train, Split::None}) {
    const auto indices = ds->indicesOf(split);
    if (indices.empty()) continue;
    const std::string what =
        split == Split::None ? "" : "the " + std::string(splitName(split)) + " split";
    auto in = fromSamples(*ds, indices, what, info, max);
    if (in.samples > 0) return in;
  }
  return randomInputs(info, max);
}

namespace {

// What the model in memory predicts, as the app predicts (eval mode, BatchNorm folded).
torch::Tensor expectedProbabilities(ImageClassifierImpl& net, const VerificationInputs& inputs) {
  const RestoreMode restore{net, net.is_training()};
  net.eval();
  BatchNormFolding folding(net);
  const auto device = deviceOf(net);
  return probabilities([&](const torch::Tensor& x) { return net.forward(x.to(device)); }, inputs);
}

// Reads every file of the bundle in `temp` back and compares its predictions.
void verifyFiles(const fs::path& temp, const ModelBundleInfo& info,
                 const VerificationInputs& inputs, const torch::Tensor& expected, bool onnx,
                 const std::function<void(const std::string&)>& step, ExportReport& report) {
  // TorchScript this export wrote a moment ago is trusted for reading it back (only here: the
  // committed bundle needs the user's trust again, as any TorchScript does).
  for (const char* f : {"backbone.pt", "model.pt"})
    if (fs::exists(temp / f)) trustFile(temp / f);
  step("verifying model.safetensors");
  {
    LoadedModel back = loadModelBundle(temp);
    report.checks.push_back(compare(
        "model.safetensors", expected,
        probabilities([&](const torch::Tensor& x) { return back.net->forward(x); }, inputs)));
  }
  if (fs::exists(temp / "model.pt")) {
    step("verifying model.pt");
    auto module = loadTorchScript(temp / "model.pt");
    module.eval();
    report.checks.push_back(compare(
        "model.pt", expected,
        probabilities([&](const torch::Tensor& x) { return module.forward({x}).toTensor(); },
                      inputs)));
  }
  if (onnx) {
    step("verifying model.onnx");
    const OnnxRunner runner(temp / "model.onnx");
    const bool text = bool(info.preprocess.tokenizer);
    const auto run = [&](const torch::Tensor& x) {
      if (!text) return runner.run({{"input", x}});
      return runner.run({{"input_ids", x.select(1, 0).contiguous()},
                         {"attention_mask", x.select(1, 1).contiguous()}});
    };
    report.checks.push_back(compare("model.onnx", expected, probabilities(run, inputs, true)));
  }
  std::string failures;
  for (const auto& c : report.checks)
    if (!c.ok()) failures += "\n  " + checkLine(c);
  if (!failures.empty()) {
    throw Error("export verification failed for " + report.dir.string() +
                ": a file read back does not predict what the model in memory predicts "
                "(tolerance 1e-4, on " +
                inputs.source + "):" + failures);
  }
}

// model.json gains "verified" (and "onnx"); it must still read back as a bundle.
void recordVerification(const fs::path& temp, const VerificationInputs& inputs,
                        const ExportReport& report) {
  json meta = readJsonFile((temp / "model.json").string(), "model.json", 64 << 20);
  json files = json::object();
  for (const auto& c : report.checks) files[c.file] = checkJson(c);
  meta["verified"] = {{"samples", inputs.samples},
                      {"inputs", inputs.source},
                      {"tolerance", kExportTolerance},
                      {"files", files}};
  if (report.onnx.bytes > 0)
    meta["onnx"] = {
        {"file", "model.onnx"}, {"opset", report.onnx.opset}, {"bytes", report.onnx.bytes}};
  writeFileAtomic(temp / "model.json", meta.dump(2));
  loadModelBundle(temp);
}

// The verified folder takes the target's place; a replaced bundle is left for `cleanup`.
void commit(const fs::path& temp, const fs::path& dir, RemoveOnExit& cleanup) {
  fsyncPath(temp);
  fs::path old;
  if (fs::exists(dir)) {
    old = temp;
    old += ".old";
    fs::rename(dir, old);
  }
  try {
    fs::rename(temp, dir);
  } catch (...) {
    if (!old.empty()) fs::rename(old, dir);
    throw;
  }
  cleanup.dir = old;
  fsyncPath(dir.parent_path());
}

// A fresh hidden folder beside `dir` (stale ones of killed exports removed first).
fs::path makeTempBeside(const fs::path& dir) {
  try {
    fs::create_directories(dir.parent_path());
  } catch (const fs::filesystem_error& e) {
    throw IoError(dir.parent_path().string(), std::string("cannot create: ") + e.code().message());
  }
  removeStalePartials(dir);
  std::random_device rd;
  const fs::path temp =
      dir.parent_path() / ("." + dir.filename().string() + ".partial-" +
                           std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000));
  std::error_code ec;
  if (!fs::create_directory(temp, ec))
    throw IoError(dir.string(), "cannot write the bundle here: " +
                                    (ec ? ec.message() : std::string("temporary folder exists")));
  return temp;
}

}  // namespace

ExportReport exportVerifiedBundle(const fs::path& target, ImageClassifierImpl& net,
                                  const ModelBundleInfo& info, const VerificationInputs& inputs,
                                  const ExportOptions& options, const ExportProgress& progress,
                                  const std::atomic<bool>* cancel) {
  if (inputs.batches.empty()) throw InvalidArgument("export: no inputs to verify the export on");
  fs::path dir = fs::absolute(target).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "--out bundle/" names "bundle"
  checkTarget(dir);
  if (options.onnx && !onnxExportable(info.architecture))
    exportOnnx(dir / "model.onnx", net, info);  // throws its message before anything is written
  const bool script = dynamic_cast<const ScriptBackboneImpl*>(&net) != nullptr;
  const int total = 3 + (options.onnx ? 2 : 0) + (script ? 1 : 0);
  int done = 0;
  const auto step = [&](const std::string& what) {
    throwIfCancelled(cancel);
    if (progress) progress(what, done, total);
    ++done;
  };
  ExportReport report;
  report.dir = dir;
  report.inputs = inputs.source;
  RemoveOnExit cleanup{makeTempBeside(dir)};
  const fs::path temp = cleanup.dir;
  try {
    torch::NoGradGuard noGrad;
    const torch::Tensor expected = expectedProbabilities(net, inputs);
    step("writing the bundle (model.safetensors, model.json)");
    exportModelBundle(temp, net, info);
    if (options.onnx) {
      step("writing model.onnx");
      report.onnx = exportOnnx(temp / "model.onnx", net, info);
    }
    verifyFiles(temp, info, inputs, expected, options.onnx, step, report);
    step("recording the verification in model.json");
    recordVerification(temp, inputs, report);
    throwIfCancelled(cancel);
    commit(temp, dir, cleanup);
  } catch (const Cancelled&) {
    throw;
  } catch (const fs::filesystem_error& e) {
    throw IoError(dir.string(), std::string("export failed, nothing was changed: ") +
                                    e.code().message() + " (" + e.path1().string() + ")");
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind("export verification failed", 0) == 0) throw;
    throw IoError(dir.string(), "export failed, nothing was changed: " + what);
  } catch (const std::exception& e) {
    throw IoError(dir.string(), std::string("export failed, nothing was changed: ") + e.what());
  }
  if (progress) progress("done", total, total);
  return report;
}

json checkJson(const FileCheck& c) {
  return {{"max_probability_difference", c.maxProbabilityDifference},
          {"top1_identical", c.top1Mismatches == 0}};
}

std::string describe(const ExportReport& r) {
  std::string out = "verified on " + r.inputs + ":";
  for (const auto& c : r.checks) out += "\n  " + checkLine(c);
  return out;
}

}  // namespace tlab::core
