#pragma once
// Base of every built-in network (the image CNNs and the BERT text encoder): a backbone that
// maps its input to pooled features and a replaceable head. Child modules are registered under the
// upstream PyTorch names (torchvision, the EfficientNet-Lite weights file) so published state dicts
// load by name.
//
// Not thread-safe: one thread (the trainer's) uses a model at a time.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include "core/util/EnumNames.h"

namespace tlab::core {

/// Output shapes recorded during a traced forward pass, keyed by module path.
using ShapeTrace = std::map<std::string, std::vector<int64_t>>;
/// A forward tap: sees (and may replace) the output of each recorded module path during a
/// forward pass. The explain views use it to keep a layer's activation for Grad-CAM and to
/// scale the token embeddings for integrated gradients (LibTorch has no forward hooks).
using ForwardTap = std::function<torch::Tensor(const std::string& path, torch::Tensor x)>;

struct HeadSpec {
  enum class Kind { Linear, Mlp };
  Kind kind = Kind::Linear;
  int64_t numClasses = 2;
  int64_t hidden = 256;  ///< MLP only
  double dropout = 0.2;
};
inline constexpr auto kHeadKindNames = makeNameTable(std::pair{HeadSpec::Kind::Linear, "linear"},
                                                     std::pair{HeadSpec::Kind::Mlp, "mlp"});

class ImageClassifierImpl : public torch::nn::Module {
 public:
  /// Images [N, C, H, W] (normalised) -> logits [N, classes].
  torch::Tensor forward(torch::Tensor x) { return head_(features(x)); }
  /// Images -> pooled features [N, featureDim()] (everything but the head).
  virtual torch::Tensor features(torch::Tensor x) = 0;
  /// Logits from pooled features.
  torch::Tensor classify(torch::Tensor f) { return head_(f); }

  /// The backbone's stages in forward order (head excluded): the units of "unfreeze the last
  /// N stages" and of gradual unfreezing. Each lists the module paths it covers.
  struct Stage {
    std::string name;
    std::vector<std::string> modules;
  };
  virtual std::vector<Stage> stages() const = 0;
  const std::string& headName() const { return headName_; }
  virtual int64_t featureDim() const = 0;
  int64_t numClasses() const { return numClasses_; }

  /// Replaces the head with a new, randomly initialised one (registered under headName()).
  void replaceHead(const HeadSpec& spec);

  /// A valid input of batch 1 for shape tracing: a zero image [1, channels, size, size] by
  /// default; text encoders return tokens of `inputSize` positions.
  virtual torch::Tensor exampleInput(int inputSize, int channels) const {
    return torch::zeros({1, channels, inputSize, inputSize});
  }
  /// Weight-file keys this network deliberately does not use (loaded as "skipped on purpose").
  virtual std::vector<std::string> unusedWeightPrefixes() const { return {}; }

  /// When set, forward() records the output shape of each stage and block into it.
  void setShapeTrace(ShapeTrace* trace) { trace_ = trace; }
  /// When set, every recorded output passes through `tap` (which returns the tensor to go on
  /// with). The caller keeps `tap` alive and clears it (nullptr) after the pass.
  void setForwardTap(const ForwardTap* tap) { tap_ = tap; }

 protected:
  /// Registers the original head (the upstream layout, so its weights load too).
  /// `forward` runs the head; `module` holds its parameters (may be the same object).
  void setHead(const std::string& name, std::shared_ptr<torch::nn::Module> module,
               std::function<torch::Tensor(torch::Tensor)> forward, int64_t numClasses);
  torch::Tensor record(const std::string& path, torch::Tensor x) {
    if (trace_) (*trace_)[path] = x.sizes().vec();
    if (tap_) return (*tap_)(path, std::move(x));
    return x;
  }
  /// Runs a Sequential child by child, recording "<prefix>.<i>" shapes.
  torch::Tensor runTraced(const std::string& prefix, torch::nn::Sequential& seq, torch::Tensor x);

 private:
  std::function<torch::Tensor(torch::Tensor)> head_;
  std::string headName_;
  int64_t numClasses_ = 0;
  ShapeTrace* trace_ = nullptr;
  const ForwardTap* tap_ = nullptr;
};
using ImageClassifier = std::shared_ptr<ImageClassifierImpl>;

/// The device to compute on: CUDA when this libtorch build has it and a GPU is present (set
/// TLAB_DEVICE=cpu to force the CPU), else the CPU.
torch::Device preferredDevice();
/// The device a module's parameters live on (CPU for a module without parameters).
torch::Device deviceOf(const torch::nn::Module& module);

/// The layout an architecture runs fastest in on this kind of CPU: channels_last for the
/// depthwise networks (MobileNetV2 training at 224 measured 2.1x faster than plain PyTorch with
/// it), the default layout otherwise (no gain measured for ResNet-18).
torch::MemoryFormat preferredMemoryFormat(const std::string& architecture);
/// Re-lays out every 4-D parameter and buffer of `module` in place.
void setMemoryFormat(torch::nn::Module& module, torch::MemoryFormat format);
/// The layout of a module's first 4-D parameter (Contiguous when it has none).
torch::MemoryFormat memoryFormatOf(const torch::nn::Module& module);

/// Architectures: "resnet18", "resnet34", "resnet50", "mobilenet_v2", "efficientnet_lite0",
/// "small_cnn", and BERT encoders "bert_l<layers>_h<hidden>_a<heads>" (e.g. bert_l6_h384_a12).
/// Throws InvalidArgument for anything else. `inChannels` only matters for small_cnn.
ImageClassifier createArchitecture(const std::string& arch, int64_t numClasses,
                                   int64_t inChannels = 3);

}  // namespace tlab::core
