// `transferlab-cli predict`: classify images with a backbone's original pre-trained head.
#include <torch/script.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/image/ImageDecoder.h"
#include "core/runtime/Runtime.h"
#include "core/train/ModelBundle.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::cli {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct PredictArgs {
  std::string backbone, model, weights, classesFile;
  bool csv = false;
  std::vector<std::string> images;
  int topk = 5;
  int inputSize = 224;
  bool json = false;
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

void predict(const PredictArgs& a, int& exitCode) {
  core::configureRuntime({0, false});
  std::function<torch::Tensor(torch::Tensor)> forward;
  core::Preprocess pre;
  std::vector<std::string> names;
  core::ImageClassifier net;
  torch::jit::Module script;
  core::LoadedModel bundle;
  if (!a.model.empty()) {
    bundle = core::loadModelBundle(a.model);
    pre = bundle.info.preprocess;
    names = bundle.info.classNames;
    bundle.net->to(core::preferredDevice());
    forward = [&bundle](torch::Tensor x) {
      return bundle.net->forward(x.to(core::deviceOf(*bundle.net)));
    };
  } else if (a.backbone.empty()) {
    throw core::InvalidArgument("predict needs --model BUNDLE or --backbone ID|FILE");
  } else if (fs::exists(a.backbone) && !fs::is_directory(a.backbone)) {
    script = core::loadTorchScript(a.backbone);
    script.eval();
    pre.inputSize = a.inputSize;
    forward = [&script](torch::Tensor x) { return script.forward({x}).toTensor(); };
  } else {
    const auto catalog = core::BackboneCatalog::loadDefault();
    core::BackboneLoadOptions opts;
    opts.weightsOverride = a.weights;
    auto loaded = core::loadBackbone(catalog, a.backbone, opts);
    if (!loaded.report.complete() && !a.json)
      std::cerr << "note: " << loaded.report.summary() << "\n";
    net = loaded.net;
    net->eval();
    pre = loaded.entry.preprocess();
    names = loaded.entry.classNames;
    net->to(core::preferredDevice());
    forward = [&net](torch::Tensor x) { return net->forward(x.to(core::deviceOf(*net))); };
  }
  if (!a.classesFile.empty()) names = readClassFile(a.classesFile);
  torch::NoGradGuard noGrad;
  json out = json::array();
  bool anyFailed = false;
  std::vector<std::string> files;
  for (const auto& p : a.images) {  // folders: every image below them, sorted
    if (!fs::is_directory(p)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(p)) {
      if (e.is_regular_file() && core::hasImageExtension(e.path()))
        found.push_back(e.path().string());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  for (const auto& path : files) {
    const auto img = core::decodeImageFile(path);
    if (!img.ok()) {
      out.push_back({{"path", path}, {"error", img.error}});
      anyFailed = true;
      continue;
    }
    core::Rng rng(0);
    const cv::Mat prepared = core::prepareImage(img.pixels, pre, {}, rng);
    auto x = torch::empty({1, pre.channels, pre.inputSize, pre.inputSize});
    core::normalizeToChw(prepared, pre, x.data_ptr<float>());
    const auto probs = torch::softmax(forward(x).to(torch::kCPU), 1)[0];
    const int k = std::min<int>(a.topk, int(probs.size(0)));
    const auto [values, indices] = probs.topk(k);
    json top = json::array();
    for (int i = 0; i < k; ++i) {
      const int64_t idx = indices[i].item<int64_t>();
      const std::string label =
          idx < int64_t(names.size()) ? names[size_t(idx)] : std::to_string(idx);
      top.push_back({{"label", label}, {"index", idx}, {"prob", values[i].item<double>()}});
    }
    out.push_back({{"path", path}, {"top", top}});
  }
  if (a.json) {
    std::cout << out.dump(2) << "\n";
  } else if (a.csv) {
    std::cout << "path,label,index,probability,error\n";
    for (const auto& r : out) {
      const std::string path = "\"" + r["path"].get<std::string>() + "\"";
      if (r.contains("error")) {
        std::cout << path << ",,,,\"" << r["error"].get<std::string>() << "\"\n";
      } else {
        const auto& t = r["top"][0];
        std::cout << path << ",\"" << t["label"].get<std::string>() << "\","
                  << t["index"].get<int64_t>() << "," << t["prob"].get<double>() << ",\n";
      }
    }
  } else {
    for (const auto& r : out) {
      std::cout << r["path"].get<std::string>() << "\n";
      if (r.contains("error")) {
        std::cout << "  error: " << r["error"].get<std::string>() << "\n";
        continue;
      }
      for (const auto& t : r["top"]) {
        std::cout << "  " << std::fixed << std::setprecision(1) << std::setw(5)
                  << 100 * t["prob"].get<double>() << "%  " << t["label"].get<std::string>()
                  << "\n";
      }
    }
  }
  exitCode = anyFailed ? 2 : 0;
}

}  // namespace

void addPredictCommand(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand(
      "predict", "Classify images with a fine-tuned bundle or a backbone's own head");
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
  cmd->add_option("IMAGE", a->images, "Image files or folders")->required();
  cmd->callback([a, &exitCode] { predict(*a, exitCode); });
}

}  // namespace tlab::cli
