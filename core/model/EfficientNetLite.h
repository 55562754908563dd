#pragma once
// EfficientNet-Lite0 (no squeeze-excitation, ReLU6, fixed stem and head) with the module names
// of the published PyTorch weights (_conv_stem, _bn0, _blocks.N._expand_conv, ...,
// _conv_head, _bn1, _fc); 4,652,008 parameters with the 1000-class head. Convolutions use
// TensorFlow "SAME" padding and BatchNorm eps 1e-3, as the weights were trained.
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
  torch::nn::BatchNorm2d bn0_{nullptr}, bn1_{nullptr};
  torch::nn::ModuleList blocks_;
};

}  // namespace tlab::core
