#pragma once
// A small CNN for 28x28 inputs (Fashion-MNIST-sized), fast enough for live teaching demos on a
// laptop CPU: three conv-BN-ReLU blocks (32, 64, 128 channels), global average pooling, and a
// linear head "fc". 94,186 parameters with a 10-class head on grey input.
#include "core/model/ImageClassifier.h"

namespace tlab::core {

class SmallCnnImpl : public ImageClassifierImpl {
 public:
  SmallCnnImpl(int64_t numClasses, int64_t inChannels);
  torch::Tensor features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  int64_t featureDim() const override { return 128; }

 private:
  torch::nn::Sequential blocks_[3];
};

}  // namespace tlab::core
