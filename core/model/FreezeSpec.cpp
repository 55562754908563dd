#include "core/model/FreezeSpec.h"

#include <fnmatch.h>

#include <functional>
#include <map>

#include "core/model/BatchNormFolding.h"
#include "core/model/ImageClassifier.h"
#include "core/model/LayerTree.h"

namespace tlab::core {
namespace {

std::string modulePathOf(const std::string& parameterPath) {
  const auto dot = parameterPath.rfind('.');
  return dot == std::string::npos ? "" : parameterPath.substr(0, dot);
}

bool isGlob(const std::string& p) { return p.find_first_of("*?[") != std::string::npos; }

bool underHead(const std::string& path, const std::string& head) {
  return path == head || path.compare(0, head.size() + 1, head + ".") == 0;
}

bool isBatchNorm(const torch::nn::Module& m) {
  return m.as<foldable::BatchNorm2d>() || m.as<torch::nn::BatchNorm2d>() ||
         m.as<torch::nn::BatchNorm1d>() || m.as<torch::nn::BatchNorm3d>();
}

}  // namespace

const char* batchNormPolicyName(BatchNormPolicy p) { return kBatchNormPolicyNames.name(p); }

bool pathMatches(const std::string& pattern, const std::string& path) {
  if (pattern.empty()) return false;
  if (isGlob(pattern)) {
    // A glob matches the module or any of its ancestors ("layer1.*" covers layer1.0.conv1).
    std::string p = path;
    for (;;) {
      if (fnmatch(pattern.c_str(), p.c_str(), 0) == 0) return true;
      const auto dot = p.rfind('.');
      if (dot == std::string::npos) return false;
      p.resize(dot);
    }
  }
  return path == pattern || path.compare(0, pattern.size() + 1, pattern + ".") == 0;
}

FreezeSpec FreezeSpec::backboneFrozen() {
  FreezeSpec s;
  s.rules.push_back({"*", true});
  return s;
}

FreezeSpec FreezeSpec::lastStagesTrainable(const ImageClassifierImpl& net, int n) {
  FreezeSpec s = backboneFrozen();
  const auto stages = net.stages();
  for (int k = std::max(0, int(stages.size()) - n); k < int(stages.size()); ++k) {
    for (const auto& m : stages[size_t(k)].modules) s.rules.push_back({m, false});
  }
  return s;
}

bool FreezeSpec::isFrozen(const std::string& parameterPath, const std::string& headName) const {
  const std::string module = modulePathOf(parameterPath);
  const bool head = underHead(module, headName);
  bool frozen = false;
  for (const auto& r : rules) {
    // The head only follows rules that name it explicitly: "freeze everything" means the backbone.
    if (head && (isGlob(r.pattern) || !underHead(r.pattern, headName))) continue;
    if (pathMatches(r.pattern, module)) frozen = r.frozen;
  }
  return frozen;
}

double FreezeSpec::lrMultiplier(const std::string& parameterPath) const {
  double m = 1.0;
  const std::string module = modulePathOf(parameterPath);
  for (const auto& r : lrRules) {
    if (pathMatches(r.pattern, module)) m = r.multiplier;
  }
  return m;
}

void applyFreezeSpec(ImageClassifierImpl& net, const FreezeSpec& spec) {
  for (auto& p : net.named_parameters())
    p.value().set_requires_grad(!spec.isFrozen(p.key(), net.headName()));
}

void setTrainingMode(ImageClassifierImpl& net, const FreezeSpec& spec) {
  net.train();
  for (const auto& item : net.named_modules()) {
    auto& m = *item.value();
    if (!isBatchNorm(m)) continue;
    bool statsFrozen = spec.batchNorm == BatchNormPolicy::AlwaysFrozen;
    if (spec.batchNorm == BatchNormPolicy::FollowFreeze) {
      statsFrozen = true;
      for (const auto& p : m.named_parameters()) {
        if (!spec.isFrozen(item.key() + "." + p.key(), net.headName())) statsFrozen = false;
      }
    }
    if (statsFrozen) m.eval();
  }
}

void annotateLayerTree(LayerNode& root, const ImageClassifierImpl& net, const FreezeSpec& spec) {
  std::map<std::string, LayerNode*> byPath;
  std::function<void(LayerNode&)> index = [&](LayerNode& n) {
    n.trainableParams = 0;
    byPath[n.path] = &n;
    for (auto& c : n.children) index(c);
  };
  index(root);
  for (const auto& p : net.named_parameters()) {
    if (spec.isFrozen(p.key(), net.headName())) continue;
    std::string path = modulePathOf(p.key());
    for (;;) {  // add to the module and every ancestor
      if (auto it = byPath.find(path); it != byPath.end())
        it->second->trainableParams += p.value().numel();
      if (path.empty()) break;
      const auto dot = path.rfind('.');
      path = dot == std::string::npos ? "" : path.substr(0, dot);
    }
  }
  for (auto& [path, node] : byPath) {
    node->lrMultiplier = spec.lrMultiplier(path + ".x");
    if (node->isBatchNorm) {
      node->bnStatsFrozen =
          spec.batchNorm == BatchNormPolicy::AlwaysFrozen ||
          (spec.batchNorm == BatchNormPolicy::FollowFreeze && node->trainableParams == 0);
    }
  }
}

std::vector<ParamGroup> trainableParameterGroups(ImageClassifierImpl& net, const FreezeSpec& spec) {
  std::vector<ParamGroup> groups;
  for (auto& p : net.named_parameters()) {
    if (spec.isFrozen(p.key(), net.headName())) continue;
    const double m = spec.lrMultiplier(p.key());
    auto it = std::find_if(groups.begin(), groups.end(),
                           [m](const ParamGroup& g) { return g.lrMultiplier == m; });
    if (it == groups.end()) it = groups.insert(groups.end(), ParamGroup{m, {}});
    it->params.push_back(p.value());
  }
  return groups;
}

FreezeSpec gradualUnfreezeSpec(const ImageClassifierImpl& net, int epoch, int firstEpoch,
                               int epochsPerStage, BatchNormPolicy policy) {
  int unfrozen = 0;
  if (epoch >= firstEpoch) unfrozen = 1 + (epoch - firstEpoch) / std::max(1, epochsPerStage);
  FreezeSpec s = FreezeSpec::lastStagesTrainable(net, unfrozen);
  s.batchNorm = policy;
  return s;
}

}  // namespace tlab::core
