#include "core/model/ImageClassifier.h"

#include <cstdlib>

#include "core/Errors.h"
#include "core/model/BertEncoder.h"
#include "core/model/EfficientNetLite.h"
#include "core/model/MobileNetV2.h"
#include "core/model/ResNet.h"
#include "core/model/SmallCnn.h"

namespace tlab::core {

void ImageClassifierImpl::setHead(const std::string& name,
                                  std::shared_ptr<torch::nn::Module> module,
                                  std::function<torch::Tensor(torch::Tensor)> forward,
                                  int64_t numClasses) {
  headName_ = name;
  numClasses_ = numClasses;
  head_ = std::move(forward);
  register_module(name, std::move(module));
}

void ImageClassifierImpl::replaceHead(const HeadSpec& spec) {
  TORCH_CHECK(spec.numClasses >= 1, "replaceHead: numClasses must be >= 1");
  torch::nn::Sequential seq;
  if (spec.kind == HeadSpec::Kind::Linear) {
    seq->push_back(torch::nn::Dropout(spec.dropout));
    seq->push_back(torch::nn::Linear(featureDim(), spec.numClasses));
  } else {
    seq->push_back(torch::nn::Linear(featureDim(), spec.hidden));
    seq->push_back(torch::nn::ReLU());
    seq->push_back(torch::nn::Dropout(spec.dropout));
    seq->push_back(torch::nn::Linear(spec.hidden, spec.numClasses));
  }
  replace_module(headName_, seq.ptr());
  head_ = [seq](torch::Tensor x) mutable { return seq->forward(x); };
  numClasses_ = spec.numClasses;
}

torch::Tensor ImageClassifierImpl::runTraced(const std::string& prefix, torch::nn::Sequential& seq,
                                             torch::Tensor x) {
  if (!trace_ && !tap_) return seq->forward(x);
  size_t i = 0;
  for (auto& child : *seq) x = record(prefix + "." + std::to_string(i++), child.forward(x));
  return x;
}

torch::Device preferredDevice() {
  const char* forced = std::getenv("TLAB_DEVICE");
  if (forced && std::string(forced) == "cpu") return torch::kCPU;
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

torch::Device deviceOf(const torch::nn::Module& module) {
  const auto params = module.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

torch::MemoryFormat preferredMemoryFormat(const std::string& architecture) {
  return architecture == "mobilenet_v2" || architecture == "efficientnet_lite0"
             ? torch::MemoryFormat::ChannelsLast
             : torch::MemoryFormat::Contiguous;
}

void setMemoryFormat(torch::nn::Module& module, torch::MemoryFormat format) {
  torch::NoGradGuard noGrad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(format));
  }
  for (auto& b : module.buffers()) {
    if (b.dim() == 4) b.set_data(b.data().contiguous(format));
  }
}

torch::MemoryFormat memoryFormatOf(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) {
    if (p.dim() == 4) {
      return !p.is_contiguous() && p.is_contiguous(torch::MemoryFormat::ChannelsLast)
                 ? torch::MemoryFormat::ChannelsLast
                 : torch::MemoryFormat::Contiguous;
    }
  }
  return torch::MemoryFormat::Contiguous;
}

ImageClassifier createArchitecture(const std::string& arch, int64_t numClasses,
                                   int64_t inChannels) {
  if (arch == "resnet18") return std::make_shared<ResNetImpl>(ResNetDepth::R18, numClasses);
  if (arch == "resnet34") return std::make_shared<ResNetImpl>(ResNetDepth::R34, numClasses);
  if (arch == "resnet50") return std::make_shared<ResNetImpl>(ResNetDepth::R50, numClasses);
  if (arch == "mobilenet_v2") return std::make_shared<MobileNetV2Impl>(numClasses);
  if (arch == "efficientnet_lite0") {
    return std::make_shared<EfficientNetLite0Impl>(numClasses);
  }
  if (arch == "small_cnn") return std::make_shared<SmallCnnImpl>(numClasses, inChannels);
  if (const auto bert = BertConfig::fromArchitecture(arch)) {
    return std::make_shared<BertEncoderImpl>(*bert, numClasses);
  }
  throw InvalidArgument("unknown architecture '" + arch +
                        "' (expected resnet18, resnet34, resnet50, mobilenet_v2, "
                        "efficientnet_lite0, small_cnn or bert_l<N>_h<H>_a<A>)");
}

}  // namespace tlab::core
