#include "core/model/ResNet.h"

#include "core/model/BatchNormFolding.h"

namespace tlab::core {
namespace {
namespace nn = torch::nn;

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

foldable::BatchNorm2d bnAfter(const nn::Conv2d& conv) {
  return foldable::BatchNorm2d(conv, nn::BatchNormOptions(conv->options.out_channels()));
}

// torchvision BasicBlock (expansion 1) and Bottleneck (expansion 4, stride on the 3x3 conv).
class BlockImpl : public nn::Module {
 public:
  BlockImpl(int64_t in, int64_t planes, int64_t stride, bool bottleneck)
      : nn::Module(bottleneck ? "Bottleneck" : "BasicBlock"), bottleneck_(bottleneck) {
    const int64_t out = bottleneck ? planes * 4 : planes;
    if (bottleneck) {
      conv1 = register_module("conv1", conv(in, planes, 1, 1, 0));
      bn1 = register_module("bn1", bnAfter(conv1));
      conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
      bn2 = register_module("bn2", bnAfter(conv2));
      conv3 = register_module("conv3", conv(planes, out, 1, 1, 0));
      bn3 = register_module("bn3", bnAfter(conv3));
    } else {
      conv1 = register_module("conv1", conv(in, planes, 3, stride, 1));
      bn1 = register_module("bn1", bnAfter(conv1));
      conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
      bn2 = register_module("bn2", bnAfter(conv2));
    }
    if (stride != 1 || in != out) {
      const auto down = conv(in, out, 1, stride, 0);
      downsample = register_module("downsample", nn::Sequential(down, bnAfter(down)));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor identity = downsample ? downsample->forward(x) : x;
    torch::Tensor y = bn1(conv1(x)).relu_();
    y = bn2(conv2(y));
    if (bottleneck_) y = bn3(conv3(torch::relu_(y)));
    return y.add_(identity).relu_();
  }

 private:
  bool bottleneck_;
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  foldable::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Block);

}  // namespace

ResNetImpl::ResNetImpl(ResNetDepth depth, int64_t numClasses) {
  const bool bottleneck = depth == ResNetDepth::R50;
  const int64_t counts[3][4] = {{2, 2, 2, 2}, {3, 4, 6, 3}, {3, 4, 6, 3}};
  const auto& n = counts[int(depth)];
  conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", bnAfter(conv1));
  int64_t in = 64;
  for (int s = 0; s < 4; ++s) {
    const int64_t planes = 64 << s;
    for (int64_t b = 0; b < n[s]; ++b) {
      layers_[s]->push_back(Block(in, planes, (b == 0 && s > 0) ? 2 : 1, bottleneck));
      in = bottleneck ? planes * 4 : planes;
    }
    register_module("layer" + std::to_string(s + 1), layers_[s]);
  }
  featureDim_ = in;
  nn::Linear fc(in, numClasses);
  setHead(
      "fc", fc.ptr(), [fc](torch::Tensor x) mutable { return fc->forward(x); }, numClasses);
  // torchvision's initialisation: Kaiming-normal convs, unit-gamma BatchNorm.
  for (auto& m : modules(false)) {
    if (auto* c = m->as<nn::Conv2d>())
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
  }
}

torch::Tensor ResNetImpl::features(torch::Tensor x) {
  x = record("conv1", conv1(x));
  x = record("bn1", bn1(x).relu_());
  x = record("maxpool", torch::max_pool2d(x, 3, 2, 1));
  for (int s = 0; s < 4; ++s) {
    const std::string name = "layer" + std::to_string(s + 1);
    x = record(name, runTraced(name, layers_[s], x));
  }
  return record("avgpool", torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

std::vector<ImageClassifierImpl::Stage> ResNetImpl::stages() const {
  return {{"stem", {"conv1", "bn1"}},
          {"layer1", {"layer1"}},
          {"layer2", {"layer2"}},
          {"layer3", {"layer3"}},
          {"layer4", {"layer4"}}};
}

}  // namespace tlab::core
