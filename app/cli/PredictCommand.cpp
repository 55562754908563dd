// `transferlab-cli predict`: classify images or texts with a fine-tuned bundle, or images with a
// backbone's original pre-trained head.
#include <torch/script.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/CliInputs.h"
#include "core/Errors.h"
#include "core/image/ImageDecoder.h"
#include "core/model/BatchNormFolding.h"
#include "core/runtime/Runtime.h"
#include "core/train/ModelBundle.h"
#include "core/train/ModelInput.h"
#include "core/util/FileUtil.h"
#include "core/util/Utf8.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::cli {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct PredictArgs {
  std::string backbone, model, weights, classesFile;
  bool csv = false;
  std::vector<std::string> images;
  std::vector<std::string> texts;
  std::string textFile;
  int topk = 5;
  int inputSize = 224;
  int benchmark = 0;
  bool json = false;
  double unsureBelow = -1;  ///< < 0: the bundle's default (0 for models without a bundle)
};

std::vector<std::string> readClassFile(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  if (!in) throw core::IoError(path, "cannot open class list");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// One thing to classify: its identity in the output, and its input tensor or why there is none.
struct Item {
  json id;
  torch::Tensor x;
  std::string error;
};

std::vector<Item> imageItems(const PredictArgs& a, const core::Preprocess& pre) {
  const std::vector<std::string> files = expandImageInputs(a.images);
  std::vector<Item> items;
  for (const auto& path : files) {
    Item item{{{"path", path}}, {}, {}};
    const auto img = core::decodeImageFile(path);
    if (!img.ok()) {
      item.error = img.error;
    } else {
      item.x = core::imageInput(img.pixels, pre);
    }
    items.push_back(std::move(item));
  }
  return items;
}

// --text values, then the lines of --text-file (blank lines skipped; invalid UTF-8 reported
// with its line number).
std::vector<Item> textItems(const PredictArgs& a, const core::Preprocess& pre) {
  std::vector<Item> items;
  auto add = [&](const std::string& text, json id) {
    Item item{std::move(id), {}, {}};
    size_t truncated = 0;
    item.x = core::textInput(text, pre, &truncated);
    if (truncated > 0) item.id["truncated_tokens"] = truncated;
    items.push_back(std::move(item));
  };
  for (const auto& t : a.texts) {
    if (!core::isValidUtf8(t)) {
      items.push_back({{{"text", ""}}, {}, "invalid UTF-8 text"});
    } else {
      add(t, {{"text", t}});
    }
  }
  if (!a.textFile.empty()) {
    for (auto& [line, text] : nonBlankLines(a.textFile)) {
      if (!core::isValidUtf8(text)) {
        items.push_back({{{"file", a.textFile}, {"line", line}}, {}, "invalid UTF-8 text"});
        continue;
      }
      add(text, {{"file", a.textFile}, {"line", line}, {"text", text}});
    }
  }
  return items;
}

std::string csvQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string itemName(const json& id) {
  if (id.contains("path")) return id["path"].get<std::string>();
  std::string text = id.value("text", "");
  if (text.size() > 70) text = text.substr(0, 67) + "...";
  std::string name = id.contains("line") ? id["file"].get<std::string>() + ":" +
                                               std::to_string(id["line"].get<size_t>()) + "  "
                                         : "";
  return name + "\"" + text + "\"";
}

void printResults(const PredictArgs& a, bool text, const json& out) {
  if (a.json) {
    std::cout << out.dump(2) << "\n";
  } else if (a.csv) {
    std::cout << (text ? "text" : "path") << ",label,index,probability,error,unsure\n";
    for (const auto& r : out) {
      const std::string key = text ? r.value("text", "") : r["path"].get<std::string>();
      if (r.contains("error")) {
        std::cout << csvQuote(key) << ",,,," << csvQuote(r["error"].get<std::string>()) << ",\n";
      } else {
        const auto& t = r["top"][0];
        std::cout << csvQuote(key) << "," << csvQuote(t["label"].get<std::string>()) << ","
                  << t["index"].get<int64_t>() << "," << t["prob"].get<double>() << ","
                  << (r.value("unsure", false) ? ",1" : ",0") << "\n";
      }
    }
  } else {
    for (const auto& r : out) {
      std::cout << itemName(r) << "\n";
      if (r.contains("error")) {
        std::cout << "  error: " << r["error"].get<std::string>() << "\n";
        continue;
      }
      for (const auto& t : r["top"]) {
        std::cout << "  " << std::fixed << std::setprecision(1) << std::setw(5)
                  << 100 * t["prob"].get<double>() << "%  " << t["label"].get<std::string>()
                  << "\n";
      }
      if (r.value("unlike_training_data", false))
        std::cout << "  unsure: unlike the training data (feature distance " << std::setprecision(3)
                  << r["ood_distance"].get<double>() << ")\n";
      else if (r.value("unsure", false))
        std::cout << "  unsure: the top class is below " << std::setprecision(0)
                  << 100 * r["unsure_below"].get<double>() << "%\n";
    }
  }
}

// What predicting needs from a model: its forward pass, preprocessing and class names.
struct Predictor {
  std::function<torch::Tensor(torch::Tensor)> forward;
  core::Preprocess pre;
  std::vector<std::string> names;
  /// Built-in networks predict with their BatchNorms folded for the whole command.
  std::shared_ptr<core::BatchNormFolding> folding;
  double temperature = 1.0;  ///< probabilities are softmax(logits / temperature)
  double unsureBelow = 0;    ///< the model's default abstention threshold
  core::OodReference ood;    ///< bundles: what "unlike the training data" means
  std::function<torch::Tensor(torch::Tensor)> features;  ///< bundles: penultimate features
  std::function<torch::Tensor(torch::Tensor)> classify;  ///< bundles: the head on features
};

Predictor bundlePredictor(const std::string& dir) {
  core::LoadedModel bundle = core::loadModelBundle(dir);
  core::ImageClassifier net = bundle.net;
  net->to(core::preferredDevice());
  return {[net](torch::Tensor x) { return net->forward(x.to(core::deviceOf(*net))); },
          bundle.info.preprocess,
          bundle.info.classNames,
          std::make_shared<core::BatchNormFolding>(*net),
          bundle.info.temperature,
          bundle.info.unsureBelow,
          bundle.info.ood,
          [net](torch::Tensor x) { return net->features(x.to(core::deviceOf(*net))); },
          [net](torch::Tensor f) { return net->classify(f); }};
}

Predictor scriptPredictor(const PredictArgs& a) {
  torch::jit::Module script = core::loadTorchScript(a.backbone);
  script.eval();
  Predictor p;
  p.pre.inputSize = a.inputSize;
  p.forward = [script](torch::Tensor x) mutable { return script.forward({x}).toTensor(); };
  return p;
}

// A catalog backbone with its own pre-trained classifier (e.g. ImageNet's 1,000 classes).
Predictor catalogPredictor(const PredictArgs& a) {
  const auto catalog = core::BackboneCatalog::loadDefault();
  core::BackboneLoadOptions opts;
  opts.weightsOverride = a.weights;
  auto loaded = core::loadBackbone(catalog, a.backbone, opts);
  if (!loaded.report.complete() && !a.json)
    std::cerr << "note: " << loaded.report.summary() << "\n";
  if (loaded.entry.classNames.empty())
    throw core::InvalidArgument("backbone '" + a.backbone +
                                "' has no pre-trained classifier: fine-tune it on your classes "
                                "(transferlab-cli train) and predict with --model RUN/model");
  core::ImageClassifier net = loaded.net;
  net->eval();
  net->to(core::preferredDevice());
  return {[net](torch::Tensor x) { return net->forward(x.to(core::deviceOf(*net))); },
          loaded.entry.preprocess(),
          loaded.entry.classNames,
          std::make_shared<core::BatchNormFolding>(*net),
          1.0,
          0.0,
          {},
          {},
          {}};
}

Predictor loadPredictor(const PredictArgs& a) {
  if (!a.model.empty()) return bundlePredictor(a.model);
  if (a.backbone.empty())
    throw core::InvalidArgument("predict needs --model BUNDLE or --backbone ID|FILE");
  if (fs::exists(a.backbone) && !fs::is_directory(a.backbone)) return scriptPredictor(a);
  return catalogPredictor(a);
}

// The top-k classes of one input's logits.
json topClasses(const Predictor& p, const torch::Tensor& logits, int topk) {
  const auto probs = torch::softmax(logits.to(torch::kCPU) / p.temperature, 1)[0];
  const int k = std::min<int>(topk, int(probs.size(0)));
  const auto [values, indices] = probs.topk(k);
  json top = json::array();
  for (int i = 0; i < k; ++i) {
    const int64_t idx = indices[i].item<int64_t>();
    const std::string label =
        idx < int64_t(p.names.size()) ? p.names[size_t(idx)] : std::to_string(idx);
    top.push_back({{"label", label}, {"index", idx}, {"prob", values[i].item<double>()}});
  }
  return top;
}

void predict(const PredictArgs& a, int& exitCode) {
  core::configureRuntime({0, false});
  Predictor p = loadPredictor(a);
  if (!a.classesFile.empty()) p.names = readClassFile(a.classesFile);
  const bool text = bool(p.pre.tokenizer);
  if (text && !a.images.empty())
    throw core::InvalidArgument("this is a text model: give --text or --text-file, not images");
  if (!text && (!a.texts.empty() || !a.textFile.empty()))
    throw core::InvalidArgument("this is an image model: give image files or folders");
  if (a.images.empty() && a.texts.empty() && a.textFile.empty())
    throw core::InvalidArgument("nothing to predict: give images, --text or --text-file");
  const double unsureBelow = a.unsureBelow >= 0 ? a.unsureBelow : p.unsureBelow;
  torch::NoGradGuard noGrad;
  json out = json::array();
  bool anyFailed = false;
  torch::Tensor first;  // the first input that decoded, for --benchmark
  for (Item& item : text ? textItems(a, p.pre) : imageItems(a, p.pre)) {
    json r = item.id;
    if (!item.error.empty()) {
      r["error"] = item.error;
      anyFailed = true;
    } else {
      bool unlike = false;
      if (!p.ood.empty() && p.features && p.classify) {  // one pass: features, then the head
        const auto features = p.features(item.x);
        r["top"] = topClasses(p, p.classify(features), a.topk);
        const auto f = features.to(torch::kCPU, torch::kFloat).contiguous();
        const double d = core::nearestMeanDistance(p.ood, f.data_ptr<float>(), f.size(1));
        unlike = d > p.ood.threshold;
        r["ood_distance"] = d;
        r["unlike_training_data"] = unlike;
      } else {
        r["top"] = topClasses(p, p.forward(item.x), a.topk);
      }
      if (unsureBelow > 0 || unlike) {
        r["unsure"] = unlike || r["top"][0]["prob"].get<double>() < unsureBelow;
        r["unsure_below"] = unsureBelow;
      }
      if (!first.defined()) first = item.x;
    }
    out.push_back(r);
  }
  if (a.benchmark > 0 && first.defined()) {
    // Batch-1 latency of the forward pass and softmax, after one warm-up run.
    std::vector<double> ms;
    torch::softmax(p.forward(first), 1);
    for (int i = 0; i < a.benchmark; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      torch::softmax(p.forward(first), 1).to(torch::kCPU);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const json bench{{"runs", a.benchmark},
                     {"median_ms", ms[ms.size() / 2]},
                     {"threads", at::get_num_threads()}};
    if (a.json) {
      std::cout << json{{"predictions", out}, {"benchmark", bench}}.dump(2) << "\n";
    } else {
      printResults(a, text, out);
      std::printf("batch-1 latency: %.2f ms (median of %d runs, %d threads)\n", ms[ms.size() / 2],
                  a.benchmark, at::get_num_threads());
    }
    exitCode = anyFailed ? 2 : 0;
    return;
  }
  printResults(a, text, out);
  exitCode = anyFailed ? 2 : 0;
}

}  // namespace

void addPredictCommand(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand(
      "predict",
      "Classify images or texts with a fine-tuned bundle, or images with a backbone's own head");
  cmd->add_option("--backbone", a->backbone,
                  "Catalog id, or a TorchScript file (trusted files only)");
  cmd->add_option("--model", a->model, "A fine-tuned model bundle (RUN/model)");
  cmd->add_flag("--csv", a->csv, "Print CSV: path,label,index,probability,error");
  cmd->add_option("--weights", a->weights,
                  "Load this safetensors/.pth file into the built-in architecture");
  cmd->add_option("--classes", a->classesFile,
                  "Class names, one per line (default: the catalog's)");
  cmd->add_option("--topk", a->topk, "How many classes to show")->check(CLI::PositiveNumber);
  cmd->add_option("--input-size", a->inputSize, "Input size for TorchScript models");
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->add_option("--text", a->texts, "A text to classify (text models; repeatable)");
  cmd->add_option("--text-file", a->textFile,
                  "Classify each non-empty line of this UTF-8 file (text models)");
  cmd->add_option("--benchmark", a->benchmark,
                  "Also time N more forward passes of the first input (batch 1); with --json the "
                  "output becomes {predictions, benchmark}")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--unsure-below", a->unsureBelow,
                  "Report a prediction as unsure when its top probability (calibrated) is below "
                  "this; 0: never (default: the bundle's, 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("IMAGE", a->images, "Image files or folders (image models)");
  cmd->callback([a, &exitCode] { predict(*a, exitCode); });
}

}  // namespace tlab::cli
