#include "core/model/MobileNetV2.h"

#include "core/model/Activations.h"
#include "core/model/BatchNormFolding.h"

namespace tlab::core {
namespace {
namespace nn = torch::nn;

// torchvision's ConvBNReLU: a Sequential(conv, bn, relu6), so keys read "<i>.0.weight",
// "<i>.1.*". A subclass with a plain forward() so it can sit inside another Sequential.
class ConvBnReluImpl : public nn::SequentialImpl {
 public:
  ConvBnReluImpl(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups) {
    const nn::Conv2d conv(nn::Conv2dOptions(in, out, k)
                              .stride(stride)
                              .padding((k - 1) / 2)
                              .groups(groups)
                              .bias(false));
    push_back(conv);
    push_back(foldable::BatchNorm2d(conv, nn::BatchNormOptions(out)));
    push_back(nn::Functional(applyRelu6));
  }
  torch::Tensor forward(torch::Tensor x) { return nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(ConvBnRelu);

class InvertedResidualImpl : public nn::Module {
 public:
  InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expand)
      : residual_(stride == 1 && in == out) {
    const int64_t hidden = in * expand;
    if (expand != 1) conv->push_back(ConvBnRelu(in, hidden, 1, 1, 1));
    conv->push_back(ConvBnRelu(hidden, hidden, 3, stride, hidden));
    const nn::Conv2d project(nn::Conv2dOptions(hidden, out, 1).bias(false));
    conv->push_back(project);
    conv->push_back(foldable::BatchNorm2d(project, nn::BatchNormOptions(out)));
    register_module("conv", conv);
  }
  torch::Tensor forward(torch::Tensor x) {
    return residual_ ? conv->forward(x).add_(x) : conv->forward(x);
  }

 private:
  bool residual_;
  nn::Sequential conv;
};
TORCH_MODULE(InvertedResidual);

// (expansion t, channels c, repeats n, first stride s), as in the paper and torchvision.
constexpr int64_t kSettings[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                     {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

}  // namespace

MobileNetV2Impl::MobileNetV2Impl(int64_t numClasses) {
  features_->push_back(ConvBnRelu(3, 32, 3, 2, 1));
  int64_t in = 32;
  for (const auto& s : kSettings) {
    for (int64_t i = 0; i < s[2]; ++i) {
      features_->push_back(InvertedResidual(in, s[1], i == 0 ? s[3] : 1, s[0]));
      in = s[1];
    }
  }
  features_->push_back(ConvBnRelu(in, 1280, 1, 1, 1));
  register_module("features", features_);
  nn::Sequential classifier(nn::Dropout(0.2), nn::Linear(1280, numClasses));
  setHead(
      "classifier", classifier.ptr(),
      [classifier](torch::Tensor x) mutable { return classifier->forward(x); }, numClasses);
  for (auto& m : modules(false)) {
    if (auto* c = m->as<nn::Conv2d>()) nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut);
    if (auto* l = m->as<nn::Linear>()) {
      nn::init::normal_(l->weight, 0, 0.01);
      nn::init::zeros_(l->bias);
    }
  }
}

torch::Tensor MobileNetV2Impl::features(torch::Tensor x) {
  x = record("features", runTraced("features", features_, x));
  return record("avgpool", torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

std::vector<ImageClassifierImpl::Stage> MobileNetV2Impl::stages() const {
  std::vector<Stage> out{{"stem", {"features.0"}}};
  int64_t index = 1;
  for (size_t s = 0; s < 7; ++s) {
    Stage st{"stage" + std::to_string(s + 1), {}};
    for (int64_t i = 0; i < kSettings[s][2]; ++i)
      st.modules.push_back("features." + std::to_string(index++));
    out.push_back(st);
  }
  out.push_back({"last_conv", {"features.18"}});
  return out;
}

}  // namespace tlab::core
