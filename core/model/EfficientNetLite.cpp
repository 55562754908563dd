#include "core/model/EfficientNetLite.h"

namespace tlab::core {
namespace {
namespace nn = torch::nn;

nn::BatchNorm2d tfBatchNorm(int64_t c) {
  return nn::BatchNorm2d(nn::BatchNormOptions(c).eps(1e-3).momentum(0.01));
}

// TensorFlow SAME padding: output = ceil(input / stride), extra pixel on the bottom/right.
torch::Tensor padSame(const torch::Tensor& x, int64_t k, int64_t stride) {
  auto pad = [&](int64_t in) {
    return std::max<int64_t>((((in + stride - 1) / stride) - 1) * stride + k - in, 0);
  };
  const int64_t ph = pad(x.size(2)), pw = pad(x.size(3));
  if (ph == 0 && pw == 0) return x;
  return torch::constant_pad_nd(x, {pw / 2, pw - pw / 2, ph / 2, ph - ph / 2}, 0);
}

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).groups(groups).bias(false));
}

class MBConvImpl : public nn::Module {
 public:
  MBConvImpl(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t expand, double dropConnect)
      : k_(k), stride_(stride), skip_(stride == 1 && in == out), dropConnect_(dropConnect) {
    const int64_t hidden = in * expand;
    if (expand != 1) {
      expandConv_ = register_module("_expand_conv", conv(in, hidden, 1, 1));
      bn0_ = register_module("_bn0", tfBatchNorm(hidden));
    }
    depthwise_ = register_module("_depthwise_conv", conv(hidden, hidden, k, stride, hidden));
    bn1_ = register_module("_bn1", tfBatchNorm(hidden));
    project_ = register_module("_project_conv", conv(hidden, out, 1, 1));
    bn2_ = register_module("_bn2", tfBatchNorm(out));
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor y = x;
    if (expandConv_) y = torch::relu6(bn0_(expandConv_(y)));
    y = torch::relu6(bn1_(depthwise_(padSame(y, k_, stride_))));
    y = bn2_(project_(y));
    if (!skip_) return y;
    if (is_training() && dropConnect_ > 0) {  // stochastic depth, per sample
      const double keep = 1.0 - dropConnect_;
      auto mask = torch::floor(keep + torch::rand({y.size(0), 1, 1, 1}, y.options()));
      y = y / keep * mask;
    }
    return y + x;
  }

 private:
  int64_t k_, stride_;
  bool skip_;
  double dropConnect_;
  nn::Conv2d expandConv_{nullptr}, depthwise_{nullptr}, project_{nullptr};
  nn::BatchNorm2d bn0_{nullptr}, bn1_{nullptr}, bn2_{nullptr};
};
TORCH_MODULE(MBConv);

// Per stage: expansion, kernel, first stride, output channels, repeats (EfficientNet-B0 / Lite0).
constexpr int64_t kStages[7][5] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2},
                                   {6, 3, 2, 80, 3}, {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4},
                                   {6, 3, 1, 320, 1}};
constexpr double kDropConnect = 0.2;

}  // namespace

EfficientNetLite0Impl::EfficientNetLite0Impl(int64_t numClasses) {
  convStem_ = register_module("_conv_stem", conv(3, 32, 3, 2));
  bn0_ = register_module("_bn0", tfBatchNorm(32));
  int64_t total = 0;
  for (const auto& s : kStages) total += s[4];
  int64_t in = 32, index = 0;
  for (const auto& s : kStages) {
    for (int64_t r = 0; r < s[4]; ++r, ++index) {
      blocks_->push_back(MBConv(in, s[3], s[1], r == 0 ? s[2] : 1, s[0],
                                kDropConnect * double(index) / double(total)));
      in = s[3];
    }
  }
  register_module("_blocks", blocks_);
  convHead_ = register_module("_conv_head", conv(in, 1280, 1, 1));
  bn1_ = register_module("_bn1", tfBatchNorm(1280));
  // The weights file names the classifier "_fc" (a plain Linear, dropout applied before it).
  nn::Linear fc(1280, numClasses);
  nn::Dropout dropout(0.2);
  register_module("_dropout", dropout);
  setHead(
      "_fc", fc.ptr(),
      [fc, dropout](torch::Tensor x) mutable { return fc->forward(dropout->forward(x)); },
      numClasses);
}

torch::Tensor EfficientNetLite0Impl::features(torch::Tensor x) {
  x = record("_conv_stem", convStem_(padSame(x, 3, 2)));
  x = record("_bn0", torch::relu6(bn0_(x)));
  for (size_t i = 0; i < blocks_->size(); ++i) {
    x = record("_blocks." + std::to_string(i), blocks_[i]->as<MBConv>()->forward(x));
  }
  x = record("_conv_head", convHead_(x));
  x = record("_bn1", torch::relu6(bn1_(x)));
  return record("avgpool", torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

std::vector<ImageClassifierImpl::Stage> EfficientNetLite0Impl::stages() const {
  std::vector<Stage> out{{"stem", {"_conv_stem", "_bn0"}}};
  int64_t index = 0;
  for (size_t s = 0; s < 7; ++s) {
    Stage st{"stage" + std::to_string(s + 1), {}};
    for (int64_t r = 0; r < kStages[s][4]; ++r)
      st.modules.push_back("_blocks." + std::to_string(index++));
    out.push_back(st);
  }
  out.push_back({"head_conv", {"_conv_head", "_bn1"}});
  return out;
}

}  // namespace tlab::core
