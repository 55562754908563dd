#include "core/model/SmallCnn.h"

#include "core/model/BatchNormFolding.h"

namespace tlab::core {
namespace nn = torch::nn;

SmallCnnImpl::SmallCnnImpl(int64_t numClasses, int64_t inChannels) {
  const int64_t widths[4] = {inChannels, 32, 64, 128};
  for (int b = 0; b < 3; ++b) {
    const nn::Conv2d conv(nn::Conv2dOptions(widths[b], widths[b + 1], 3).padding(1).bias(false));
    blocks_[b]->push_back(conv);
    blocks_[b]->push_back(foldable::BatchNorm2d(conv, nn::BatchNormOptions(widths[b + 1])));
    blocks_[b]->push_back(nn::ReLU());
    if (b < 2) blocks_[b]->push_back(nn::MaxPool2d(2));
    register_module("block" + std::to_string(b + 1), blocks_[b]);
  }
  nn::Linear fc(128, numClasses);
  setHead(
      "fc", fc.ptr(), [fc](torch::Tensor x) mutable { return fc->forward(x); }, numClasses);
}

torch::Tensor SmallCnnImpl::features(torch::Tensor x) {
  for (int b = 0; b < 3; ++b) x = record("block" + std::to_string(b + 1), blocks_[b]->forward(x));
  return record("avgpool", torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

std::vector<ImageClassifierImpl::Stage> SmallCnnImpl::stages() const {
  return {{"block1", {"block1"}}, {"block2", {"block2"}}, {"block3", {"block3"}}};
}

}  // namespace tlab::core
