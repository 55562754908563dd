#include "core/model/EfficientNetLite.h"

#include "core/model/Activations.h"
#include "core/model/BatchNormFolding.h"

namespace tlab::core {
namespace {
namespace nn = torch::nn;

foldable::BatchNorm2d tfBatchNorm(const nn::Conv2d& conv) {
  return foldable::BatchNorm2d(
      conv, nn::BatchNormOptions(conv->options.out_channels()).eps(1e-3).momentum(0.01));
}

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k)
                        .stride(stride)
                        .groups(groups)
                        .padding(sameConvPadding(k, stride))  // with sameConvInput()
                        .bias(false));
}

class MBConvImpl : public nn::Module {
 public:
  MBConvImpl(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t expand, double dropConnect)
      : k_(k), stride_(stride), skip_(stride == 1 && in == out), dropConnect_(dropConnect) {
    const int64_t hidden = in * expand;
    if (expand != 1) {
      expandConv_ = register_module("_expand_conv", conv(in, hidden, 1, 1));
      bn0_ = register_module("_bn0", tfBatchNorm(expandConv_));
    }
    depthwise_ = register_module("_depthwise_conv", conv(hidden, hidden, k, stride, hidden));
    bn1_ = register_module("_bn1", tfBatchNorm(depthwise_));
    project_ = register_module("_project_conv", conv(hidden, out, 1, 1));
    bn2_ = register_module("_bn2", tfBatchNorm(project_));
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor y = x;
    // The expansion's ReLU6 is applied while padding for the depthwise convolution.
    y = expandConv_ ? sameConvInput(bn0_(expandConv_(y)), k_, stride_, true)
                    : sameConvInput(y, k_, stride_);
    y = applyRelu6(bn1_(depthwise_(y)));
    y = bn2_(project_(y));
    if (!skip_) return y;
    if (is_training() && dropConnect_ > 0) {  // stochastic depth, per sample
      const double keep = 1.0 - dropConnect_;
      auto mask = torch::floor(keep + torch::rand({y.size(0), 1, 1, 1}, y.options()));
      y = y / keep * mask;
    }
    return y.add_(x);  // in place: y is this block's own output
  }

 private:
  int64_t k_, stride_;
  bool skip_;
  double dropConnect_;
  nn::Conv2d expandConv_{nullptr}, depthwise_{nullptr}, project_{nullptr};
  foldable::BatchNorm2d bn0_{nullptr}, bn1_{nullptr}, bn2_{nullptr};
};
TORCH_MODULE(MBConv);

// Per stage: expansion, kernel, first stride, output channels, repeats (EfficientNet-B0 / Lite0).
constexpr int64_t kStages[7][5] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2},
                                   {6, 3, 2, 80, 3}, {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4},
                                   {6, 3, 1, 320, 1}};
constexpr double kDropConnect = 0.2;

}  // namespace

int64_t sameConvPadding(int64_t k, int64_t stride) { return stride == 1 ? (k - 1) / 2 : 0; }

namespace {

// Copies rows of `x` into the interior of `out` (same layout, `top`/`left` padding, float),
// zeroing the border and optionally clamping to [0, 6], in one pass over memory. A "row" is W
// pixels of E elements: E = C for channels_last, E = 1 (and C times more planes) otherwise.
void copyIntoPadded(const torch::Tensor& x, torch::Tensor& out, int64_t top, int64_t left,
                    bool clampTo6) {
  const bool cl = x.suggest_memory_format() == torch::MemoryFormat::ChannelsLast;
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t hp = out.size(2), wp = out.size(3);
  const int64_t planes = cl ? n : n * c, e = cl ? c : 1;
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, planes * hp, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t p = row / hp, r = row % hp;
      float* d = dst + row * wp * e;
      if (r < top || r >= top + h) {
        std::fill(d, d + wp * e, 0.f);
        continue;
      }
      const float* s = src + (p * h + (r - top)) * w * e;
      std::fill(d, d + left * e, 0.f);
      float* interior = d + left * e;
      if (clampTo6) {
        for (int64_t i = 0; i < w * e; ++i) {
          const float v = s[i] < 0.f ? 0.f : s[i];
          interior[i] = v > 6.f ? 6.f : v;
        }
      } else {
        std::copy(s, s + w * e, interior);
      }
      std::fill(interior + w * e, d + wp * e, 0.f);
    }
  });
}

}  // namespace

// TensorFlow pads (ceil(in / s) - 1) * s + k - in in all, the smaller half on top/left. At
// stride 1 with an odd kernel that is symmetric and the convolution pads by itself. Otherwise,
// in inference, the input goes into a padded tensor in one pass (constant_pad_nd zero-fills the
// whole tensor and copies through a strided view: a fifth of Lite0's inference time).
torch::Tensor sameConvInput(torch::Tensor x, int64_t k, int64_t stride, bool clampTo6) {
  auto pad = [&](int64_t in) {
    return std::max<int64_t>(((in + stride - 1) / stride - 1) * stride + k - in, 0);
  };
  const int64_t ph = sameConvPadding(k, stride) == 0 ? pad(x.size(2)) : 0;
  const int64_t pw = sameConvPadding(k, stride) == 0 ? pad(x.size(3)) : 0;
  if (ph == 0 && pw == 0) return clampTo6 ? applyRelu6(x) : x;
  const auto format = x.suggest_memory_format();
  const bool fast = x.scalar_type() == torch::kFloat && x.device().is_cpu() &&
                    x.is_contiguous(format) &&
                    !(torch::GradMode::is_enabled() && x.requires_grad());
  if (!fast) {  // differentiable, any type and device
    const auto y = clampTo6 ? torch::clamp(x, 0, 6) : x;
    return torch::constant_pad_nd(y, {pw / 2, pw - pw / 2, ph / 2, ph - ph / 2}, 0)
        .contiguous(format);
  }
  auto out = torch::empty({x.size(0), x.size(1), x.size(2) + ph, x.size(3) + pw},
                          x.options().memory_format(format));
  copyIntoPadded(x, out, ph / 2, pw / 2, clampTo6);
  return out;
}

EfficientNetLite0Impl::EfficientNetLite0Impl(int64_t numClasses) {
  convStem_ = register_module("_conv_stem", conv(3, 32, 3, 2));
  bn0_ = register_module("_bn0", tfBatchNorm(convStem_));
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
  bn1_ = register_module("_bn1", tfBatchNorm(convHead_));
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
  x = record("_conv_stem", convStem_(sameConvInput(x, 3, 2)));
  x = record("_bn0", applyRelu6(bn0_(x)));
  for (size_t i = 0; i < blocks_->size(); ++i) {
    x = record("_blocks." + std::to_string(i), blocks_[i]->as<MBConv>()->forward(x));
  }
  x = record("_conv_head", convHead_(x));
  x = record("_bn1", applyRelu6(bn1_(x)));
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
