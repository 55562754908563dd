#pragma once
// Reading and writing model weights. Every reader validates the file against its real length
// before it allocates: declared sizes, offsets and shapes must fit, so a truncated, lying or
// hostile file gives a clear error naming the file, never a crash or a huge allocation.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tlab::core {

/// Tensors by upstream key name, in file order.
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

struct WeightLimits {
  uint64_t maxFileBytes = 4ULL << 30;
  uint64_t maxHeaderBytes = 16ULL << 20;  ///< safetensors JSON header, a .pth data.pkl
};

/// safetensors: 8-byte little-endian header length, JSON header, then the tensor data. Checks
/// the header cap, the dtype allowlist, that offsets lie inside the data area, that the byte
/// ranges neither overlap nor leave holes, and that shape x dtype size == byte range.
StateDict readSafetensors(const std::filesystem::path& path, const WeightLimits& limits = {});
/// Writes atomically (temp file + rename). Tensors are stored contiguous, in order, as float32
/// unless already an integer type. `metadata` goes to "__metadata__".
void writeSafetensors(const std::filesystem::path& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata = {});

/// PyTorch torch.save files: the zip format (PyTorch >= 1.6) and the legacy format. Only
/// tensors, storages and ordered dicts are accepted (see TorchPickle.h).
StateDict readPth(const std::filesystem::path& path, const WeightLimits& limits = {});

/// Picks the reader by content (safetensors, zip or legacy .pth).
StateDict readWeights(const std::filesystem::path& path, const WeightLimits& limits = {});

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     ///< in the model, not in the file
  std::vector<std::string> unexpected;  ///< in the file, not in the model
  std::vector<std::string> mismatched;  ///< "key: file [a, b] vs model [c, d]"
  std::vector<std::string> skipped;     ///< excluded on purpose (e.g. the replaced head)
  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;
};

/// Copies matching tensors into `module`'s parameters and buffers by name. Keys starting with
/// one of `skipPrefixes` (e.g. "fc.") are skipped on both sides; everything else that does not
/// match is reported by name. Nothing is partially copied: a mismatched tensor is left as is.
LoadReport loadStateDict(torch::nn::Module& module, const StateDict& weights,
                         const std::vector<std::string>& skipPrefixes = {});

/// The module's parameters and buffers as a StateDict (num_batches_tracked included).
StateDict stateDictOf(const torch::nn::Module& module);

}  // namespace tlab::core
