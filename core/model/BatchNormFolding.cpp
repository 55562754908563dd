#include "core/model/BatchNormFolding.h"

#include <ostream>

namespace tlab::core {
namespace foldable {

BatchNorm2dImpl::BatchNorm2dImpl(torch::nn::Conv2d conv, const torch::nn::BatchNormOptions& options)
    : options(options), conv_(std::move(conv)) {
  TORCH_CHECK(conv_->options.out_channels() == options.num_features(),
              "foldable::BatchNorm2d: ", options.num_features(),
              " features after a convolution with ", conv_->options.out_channels(), " outputs");
  reset();
}

void BatchNorm2dImpl::reset() {
  const int64_t n = options.num_features();
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({n}));
    bias = register_parameter("bias", torch::zeros({n}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({n}));
    running_var = register_buffer("running_var", torch::ones({n}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
  }
}

// As torch::nn::BatchNorm2d does: a momentum-weighted running average, or the cumulative one
// when momentum is unset.
torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& x) {
  if (folded_) return x;
  TORCH_CHECK(x.dim() == 4, "BatchNorm2d: expected 4-D input, got ", x.dim(), "-D");
  double factor = options.momentum().value_or(0.0);
  if (is_training() && options.track_running_stats()) {
    num_batches_tracked += 1;
    if (!options.momentum()) factor = 1.0 / num_batches_tracked.item<double>();
  }
  return torch::batch_norm(x, weight, bias, running_mean, running_var,
                           is_training() || !options.track_running_stats(), factor, options.eps(),
                           at::globalContext().userEnabledCuDNN());
}

void BatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "BatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << options.momentum().value_or(0) << ", affine=" << options.affine()
         << ", track_running_stats=" << options.track_running_stats() << ")";
}

}  // namespace foldable

BatchNormFolding::BatchNormFolding(torch::nn::Module& net) {
  torch::NoGradGuard noGrad;
  for (const auto& m : net.modules()) {
    auto bn = std::dynamic_pointer_cast<foldable::BatchNorm2dImpl>(m);
    if (!bn || bn->is_training() || bn->folded() || !bn->options.track_running_stats()) continue;
    auto conv = bn->conv();
    // Per-channel factors in double; the weights themselves are scaled in their own type (one
    // pass, a few ms for ResNet-50).
    auto scale = (bn->running_var.to(torch::kDouble) + bn->options.eps()).rsqrt();
    if (bn->options.affine()) scale = scale * bn->weight.to(torch::kDouble);
    auto shift = -bn->running_mean.to(torch::kDouble) * scale;
    if (conv->bias.defined()) shift = shift + conv->bias.to(torch::kDouble) * scale;
    if (bn->options.affine()) shift = shift + bn->bias.to(torch::kDouble);
    const auto w = conv->weight;
    Folded f{bn, w.detach(), conv->bias};
    w.set_data(
        (w * scale.to(w.scalar_type()).view({-1, 1, 1, 1})).contiguous(w.suggest_memory_format()));
    conv->bias = shift.to(w.scalar_type());
    bn->setFolded(true);
    folded_.push_back(std::move(f));
  }
}

BatchNormFolding::~BatchNormFolding() {
  torch::NoGradGuard noGrad;
  for (auto& f : folded_) {
    auto conv = f.bn->conv();
    conv->weight.set_data(f.weight);
    conv->bias = f.bias;
    f.bn->setFolded(false);
  }
}

}  // namespace tlab::core
