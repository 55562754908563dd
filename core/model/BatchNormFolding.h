#pragma once
// BatchNorm folded into the convolution before it, for inference. In eval mode a BatchNorm is a
// per-channel affine map, so conv -> BN equals one convolution with scaled weights and a bias;
// folding saves a full pass over every activation (EfficientNet-Lite0 feature extraction at
// 96 px, channels_last, measured about 2x faster on a 2-core Zen 3).
//
// The networks build their BatchNorms as foldable::BatchNorm2d, which knows its convolution and
// otherwise behaves exactly like torch::nn::BatchNorm2d (same state-dict keys, shown as
// "BatchNorm2d" in the layer tree, treated as a BatchNorm by the freeze rules).
#include <torch/torch.h>

#include <vector>

namespace tlab::core {
namespace foldable {

/// torch::nn::BatchNorm2d's behaviour, parameters, buffers and state-dict keys, plus the
/// convolution it normalises. Its own class because Debian's libtorch 1.13 does not export all
/// of BatchNorm2dImpl's virtual members, so that class cannot be derived from.
class BatchNorm2dImpl : public torch::nn::Cloneable<BatchNorm2dImpl> {
 public:
  /// `conv` is the convolution whose output this BatchNorm normalises (and nothing else);
  /// options.num_features() must equal its output channels.
  BatchNorm2dImpl(torch::nn::Conv2d conv, const torch::nn::BatchNormOptions& options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  torch::nn::Conv2d conv() const { return conv_; }
  bool folded() const { return folded_; }
  void setFolded(bool folded) { folded_ = folded; }

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  torch::nn::Conv2d conv_;
  bool folded_ = false;
};
TORCH_MODULE(BatchNorm2d);

}  // namespace foldable

/// While alive, every foldable BatchNorm of `net` that is in eval mode is folded into its
/// convolution; the destructor puts the original weights back bit for bit. For inference only:
/// nothing may train `net`, save it or read its parameters meanwhile (the trainer's thread owns
/// the model, so its own evaluation and feature extraction are the users).
class BatchNormFolding {
 public:
  explicit BatchNormFolding(torch::nn::Module& net);
  ~BatchNormFolding();
  BatchNormFolding(const BatchNormFolding&) = delete;
  BatchNormFolding& operator=(const BatchNormFolding&) = delete;
  size_t foldedCount() const { return folded_.size(); }

 private:
  struct Folded {
    std::shared_ptr<foldable::BatchNorm2dImpl> bn;
    torch::Tensor weight, bias;  ///< the convolution's own (bias undefined when it had none)
  };
  std::vector<Folded> folded_;
};

}  // namespace tlab::core
