#include "core/model/ScriptBackbone.h"

#include "core/Errors.h"

namespace tlab::core {
namespace {

// Mirrors one TorchScript module: same parameter/buffer tensors, same child names.
class MirrorImpl : public torch::nn::Module {
 public:
  explicit MirrorImpl(const torch::jit::Module& m) : torch::nn::Module(typeName(m)) {
    for (const auto& p : m.named_parameters(false))
      register_parameter(p.name, p.value, p.value.requires_grad());
    for (const auto& b : m.named_buffers(false)) register_buffer(b.name, b.value);
    for (const auto& c : m.named_children())
      register_module(c.name, std::make_shared<MirrorImpl>(c.value));
  }
  static std::string typeName(const torch::jit::Module& m) {
    const auto t = m.type()->name();
    return t ? t->name() : "Module";
  }
};

bool isBatchNorm(const torch::jit::Module& m) {
  const auto t = m.type()->name();
  return t && t->name().rfind("BatchNorm", 0) == 0;
}

}  // namespace

ScriptBackboneImpl::ScriptBackboneImpl(torch::jit::Module module, int inputSize, int channels,
                                       int64_t numClasses)
    : module_(std::move(module)) {
  register_module("backbone", std::make_shared<MirrorImpl>(module_));
  for (const auto& c : module_.named_children()) children_.push_back(c.name);
  {
    torch::NoGradGuard g;
    module_.eval();
    featureDim_ = features(torch::zeros({1, channels, inputSize, inputSize})).size(1);
  }
  torch::nn::Linear fc(featureDim_, numClasses);
  setHead(
      "fc", fc.ptr(), [fc](torch::Tensor x) mutable { return fc->forward(x); }, numClasses);
}

torch::Tensor ScriptBackboneImpl::features(torch::Tensor x) {
  const auto out = module_.forward({x});
  if (!out.isTensor()) throw InvalidArgument("the TorchScript model must return a single tensor");
  return out.toTensor().flatten(1);
}

std::vector<ImageClassifierImpl::Stage> ScriptBackboneImpl::stages() const {
  std::vector<Stage> out;
  for (const auto& c : children_) out.push_back({c, {"backbone." + c}});
  return out;
}

void ScriptBackboneImpl::train(bool on) {
  ImageClassifierImpl::train(on);
  module_.train(on);
  if (!on) return;
  for (const auto& item : module_.named_modules()) {
    if (!isBatchNorm(item.value)) continue;
    bool frozen = true;
    for (const auto& p : item.value.named_parameters(false))
      frozen = frozen && !p.value.requires_grad();
    if (frozen) {
      torch::jit::Module bn = item.value;  // a handle to the same module
      bn.train(false);
    }
  }
}

torch::jit::Module ScriptBackboneImpl::exportWithHead() const {
  const auto params = named_parameters();
  const torch::Tensor* w = params.find("fc.1.weight");
  const torch::Tensor* b = params.find("fc.1.bias");
  if (!w) w = params.find("fc.weight");
  if (!b) b = params.find("fc.bias");
  if (!w || !b) throw InvalidArgument("TorchScript export supports a linear head only");
  torch::jit::Module m("TransferLabModel");
  m.register_module("backbone", module_.clone());
  m.register_parameter("head_weight", w->detach().clone(), false);
  m.register_parameter("head_bias", b->detach().clone(), false);
  m.define(R"(
def forward(self, x):
    f = torch.flatten(self.backbone.forward(x), 1)
    return torch.addmm(self.head_bias, f, self.head_weight.t())
)");
  m.eval();
  return m;
}

}  // namespace tlab::core
