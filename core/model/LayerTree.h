#pragma once
// The layer tree: named modules with type, parameter counts, output shape and freeze state,
// built from a live model for display (GUI tree, `transferlab-cli model tree`). A plain value:
// safe to copy to another thread once built.
#include <cstdint>
#include <string>
#include <vector>

namespace torch::jit {
struct Module;
}

namespace tlab::core {
class ImageClassifierImpl;

enum class FreezeState { Trainable, Frozen, Partial };
const char* freezeStateName(FreezeState state);

struct LayerNode {
  std::string name;                  ///< local name ("conv1"); "" for the root
  std::string path;                  ///< full dotted path ("layer1.0.conv1"); "" for the root
  std::string type;                  ///< "Conv2d", "BatchNorm2d", "BasicBlock", ...
  int64_t params = 0;                ///< this node and its descendants
  int64_t trainableParams = 0;       ///< of those, with requires_grad
  std::vector<int64_t> outputShape;  ///< for the backbone's input size; empty when unknown
  bool isBatchNorm = false;
  bool bnStatsFrozen = false;  ///< BatchNorm in eval mode while the model trains
  double lrMultiplier = 1.0;
  std::vector<LayerNode> children;

  FreezeState freezeState() const;
  const LayerNode* find(const std::string& path) const;
};

/// Builds the tree of a built-in network, tracing output shapes with one forward pass on a
/// the network's example input (a zero image of inputSize x inputSize; inputSize tokens for text)
/// (eval mode, no gradients; the model's mode is restored).
LayerNode buildLayerTree(ImageClassifierImpl& net, int inputSize, int channels);
/// Builds the tree of a TorchScript module (no output shapes: nothing is traced).
LayerNode buildLayerTree(const torch::jit::Module& module);

}  // namespace tlab::core
