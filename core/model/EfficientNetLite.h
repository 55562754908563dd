#pragma once
// EfficientNet-Lite0 (no squeeze-excitation, ReLU6, fixed stem and head) with the module names
// of the published PyTorch weights (_conv_stem, _bn0, _blocks.N._expand_conv, ...,
// _conv_head, _bn1, _fc); 4,652,008 parameters with the 1000-class head. Convolutions use
// TensorFlow "SAME" padding and BatchNorm eps 1e-3, as the weights were trained.
#include "core/model/BatchNormFolding.h"
#include "core/model/ImageClassifier.h"

namespace tlab::core {

class EfficientNetLite0Impl : public ImageClassifierImpl {
 public:
  explicit EfficientNetLite0Impl(int64_t numClasses);
  torch::Tensor features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  int64_t featureDim() const override { return 1280; }

 private:
  torch::nn::Conv2d convStem_{nullptr}, convHead_{nullptr};
  foldable::BatchNorm2d bn0_{nullptr}, bn1_{nullptr};
  torch::nn::ModuleList blocks_;
};

/// TensorFlow "SAME" padding (output = ceil(input / stride)): a convolution of odd kernel `k`
/// and `stride` built with padding sameConvPadding(k, stride) and given sameConvInput(x, k,
/// stride). `clampTo6` also applies ReLU6 (a clamp to [0, 6]; in place when nothing is copied).
int64_t sameConvPadding(int64_t k, int64_t stride);
torch::Tensor sameConvInput(torch::Tensor x, int64_t k, int64_t stride, bool clampTo6 = false);

}  // namespace tlab::core
