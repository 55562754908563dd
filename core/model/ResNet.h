#pragma once
// ResNet-18/34/50 with torchvision's module names and parameter counts (11,689,512 /
// 21,797,672 / 25,557,032 with the 1000-class head).
#include "core/model/BatchNormFolding.h"
#include "core/model/ImageClassifier.h"

namespace tlab::core {

enum class ResNetDepth { R18, R34, R50 };

class ResNetImpl : public ImageClassifierImpl {
 public:
  ResNetImpl(ResNetDepth depth, int64_t numClasses);
  torch::Tensor features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  int64_t featureDim() const override { return featureDim_; }

 private:
  torch::nn::Conv2d conv1{nullptr};
  foldable::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layers_[4];
  int64_t featureDim_ = 0;
};

}  // namespace tlab::core
