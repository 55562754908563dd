#pragma once
// Runs an ONNX file that TransferLab exported, with LibTorch's operators, so an export can be
// verified by re-reading what was written (Debian has no ONNX runtime for C++). It executes the
// graph as stored, node by node, from the file's own initializers; it does not look at the
// network that wrote it. It implements exactly the operators the exporter emits (opset 17) and
// refuses anything else by name.
//
// The file is untrusted input: its size is capped, onnx::checker validates it first, and every
// initializer's byte count is checked against its shape before a tensor is built.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace tlab::core {

class OnnxRunner {
 public:
  /// Reads and checks `file`; throws IoError/FormatError naming it.
  explicit OnnxRunner(const std::filesystem::path& file);
  ~OnnxRunner();
  OnnxRunner(const OnnxRunner&) = delete;
  OnnxRunner& operator=(const OnnxRunner&) = delete;

  /// The model's metadata_props.
  const std::map<std::string, std::string>& metadata() const;
  std::vector<std::string> inputNames() const;
  /// Runs the graph; `inputs` by graph input name. Returns the first graph output.
  at::Tensor run(const std::map<std::string, at::Tensor>& inputs) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tlab::core
