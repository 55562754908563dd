#pragma once
// MobileNetV2 (width 1.0) with torchvision's module names: features.0 .. features.18 and
// classifier.1; 3,504,872 parameters with the 1000-class head.
#include "core/model/ImageClassifier.h"

namespace tlab::core {

class MobileNetV2Impl : public ImageClassifierImpl {
 public:
  explicit MobileNetV2Impl(int64_t numClasses);
  torch::Tensor features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  int64_t featureDim() const override { return 1280; }

 private:
  torch::nn::Sequential features_;
};

}  // namespace tlab::core
