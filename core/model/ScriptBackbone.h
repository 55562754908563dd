#pragma once
// A user's TorchScript model as a backbone (trusted files only: TorchScript runs arbitrary
// code). Its output, flattened, is the feature vector; a new head is trained on top. Its
// parameters and buffers are shared with mirror modules under "backbone.<path>", so freezing,
// the layer tree, optimisers and checkpoints treat it like a built-in network. BatchNorm layers
// inside it keep frozen statistics while all their parameters are frozen.
#include <torch/script.h>

#include "core/model/ImageClassifier.h"

namespace tlab::core {

class ScriptBackboneImpl : public ImageClassifierImpl {
 public:
  /// Runs one forward pass on a zero image of inputSize to learn the feature size.
  ScriptBackboneImpl(torch::jit::Module module, int inputSize, int channels, int64_t numClasses);
  torch::Tensor features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  int64_t featureDim() const override { return featureDim_; }
  void train(bool on = true) override;

  /// The (fine-tuned) TorchScript module itself.
  const torch::jit::Module& script() const { return module_; }
  /// A TorchScript module computing backbone + linear head (for PyTorch users); throws
  /// InvalidArgument for an MLP head.
  torch::jit::Module exportWithHead() const;

 private:
  torch::jit::Module module_;
  int64_t featureDim_ = 0;
  std::vector<std::string> children_;
};

}  // namespace tlab::core
