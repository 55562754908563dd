#pragma once
// ONNX export of the built-in networks. LibTorch has no C++ exporter, so the graph is written
// from the modules TransferLab owns: each architecture's forward pass, op by op, with its own
// weights (BatchNorm folded into the convolution before it), opset 17, a dynamic batch size
// (and, for text, a dynamic sequence length), and the preprocessing and class names in the
// model's metadata_props, so a client can reproduce TransferLab's predictions from the file alone.
//
// Inputs and outputs:
//   images: "input" float [batch, C, S, S], normalised as metadata "preprocess" says;
//   text:   "input_ids" and "attention_mask", int64 [batch, sequence];
//   both:   "probabilities" float [batch, classes] (softmax of the logits).
#include <cstdint>
#include <filesystem>
#include <string>

namespace tlab::core {

class ImageClassifierImpl;
struct ModelBundleInfo;

inline constexpr int64_t kOnnxOpset = 17;

struct OnnxExportSummary {
  int64_t bytes = 0;  ///< size of the written file
  int64_t nodes = 0;  ///< operators in the graph
  int64_t opset = kOnnxOpset;
};

/// True when exportOnnx supports `architecture` (every built-in one; not "torchscript").
bool onnxExportable(const std::string& architecture);

/// Writes `file` (atomically) after onnx::checker accepted the model. Throws
/// InvalidArgument for an architecture without an exporter (imported TorchScript backbones),
/// IoError when the file cannot be written.
OnnxExportSummary exportOnnx(const std::filesystem::path& file, ImageClassifierImpl& net,
                             const ModelBundleInfo& info);

}  // namespace tlab::core
