#include "core/model/LayerTree.h"

#include <torch/script.h>

#include "core/model/ImageClassifier.h"

namespace tlab::core {
namespace {

// "torch::nn::Conv2dImpl" -> "Conv2d"; "tlab::core::(anonymous namespace)::MBConvImpl" -> "MBConv".
std::string prettyType(std::string name) {
  const auto colon = name.rfind("::");
  if (colon != std::string::npos) name = name.substr(colon + 2);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0)
    name.resize(name.size() - 4);
  return name;
}

LayerNode fromModule(const torch::nn::Module& m, const std::string& name, const std::string& path,
                     const ShapeTrace& trace) {
  LayerNode n;
  n.name = name;
  n.path = path;
  n.type = prettyType(m.name());
  n.isBatchNorm = n.type.rfind("BatchNorm", 0) == 0;
  for (const auto& p : m.named_parameters(false)) {
    n.params += p.value().numel();
    if (p.value().requires_grad()) n.trainableParams += p.value().numel();
  }
  if (auto it = trace.find(path); it != trace.end()) n.outputShape = it->second;
  for (const auto& c : m.named_children()) {
    LayerNode child =
        fromModule(*c.value(), c.key(), path.empty() ? c.key() : path + "." + c.key(), trace);
    n.params += child.params;
    n.trainableParams += child.trainableParams;
    n.children.push_back(std::move(child));
  }
  return n;
}

LayerNode fromScript(const torch::jit::Module& m, const std::string& name,
                     const std::string& path) {
  LayerNode n;
  n.name = name;
  n.path = path;
  const auto type = m.type()->name();
  n.type = type ? type->name() : "Module";
  n.isBatchNorm = n.type.rfind("BatchNorm", 0) == 0;
  for (const auto& p : m.named_parameters(false)) {
    n.params += p.value.numel();
    if (p.value.requires_grad()) n.trainableParams += p.value.numel();
  }
  for (const auto& c : m.named_children()) {
    LayerNode child = fromScript(c.value, c.name, path.empty() ? c.name : path + "." + c.name);
    n.params += child.params;
    n.trainableParams += child.trainableParams;
    n.children.push_back(std::move(child));
  }
  return n;
}

}  // namespace

const char* freezeStateName(FreezeState s) {
  switch (s) {
    case FreezeState::Frozen:
      return "frozen";
    case FreezeState::Partial:
      return "partial";
    case FreezeState::Trainable:
      break;
  }
  return "trainable";
}

FreezeState LayerNode::freezeState() const {
  if (params == 0 || trainableParams == params) return FreezeState::Trainable;
  return trainableParams == 0 ? FreezeState::Frozen : FreezeState::Partial;
}

const LayerNode* LayerNode::find(const std::string& p) const {
  if (path == p) return this;
  for (const auto& c : children) {
    if (p == c.path || p.compare(0, c.path.size() + 1, c.path + ".") == 0) return c.find(p);
  }
  return nullptr;
}

LayerNode buildLayerTree(ImageClassifierImpl& net, int inputSize, int channels) {
  ShapeTrace trace;
  {
    torch::NoGradGuard noGrad;
    const bool wasTraining = net.is_training();
    net.eval();
    net.setShapeTrace(&trace);
    try {
      trace[""] = net.forward(net.exampleInput(inputSize, channels)).sizes().vec();
    } catch (...) {
      net.setShapeTrace(nullptr);
      net.train(wasTraining);
      throw;
    }
    net.setShapeTrace(nullptr);
    net.train(wasTraining);
  }
  trace[net.headName()] = trace[""];
  return fromModule(net, "", "", trace);
}

LayerNode buildLayerTree(const torch::jit::Module& module) { return fromScript(module, "", ""); }

}  // namespace tlab::core
