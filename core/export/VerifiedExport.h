#pragma once
// Verified export: a model bundle (model.safetensors + model.json, the TorchScript files of an
// imported backbone, and model.onnx on request) is written into a hidden folder beside the
// target, every file is read back and re-predicts the same inputs as the model in memory, and
// only when all agree (top-1 identical, probabilities within kExportTolerance) does the folder
// take the target's place. What was verified is recorded in model.json under "verified". On any
// failure (an unwritable or full disk, a target that is a file, a disagreement) the target is
// left as it was and the error names the folder and the problem.
#include <atomic>
#include <filesystem>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/export/OnnxExport.h"

namespace at {
class Tensor;
}

namespace tlab::core {

class Dataset;
class ImageClassifierImpl;
struct ModelBundleInfo;

inline constexpr double kExportTolerance = 1e-4;

/// Model inputs to verify an export on: up to `max` samples of the validation split (the test
/// split, then the training split, when there is none), in the model's preprocessing; without a
/// dataset (or when none decodes), `max` seeded random inputs.
struct VerificationInputs {
  std::vector<at::Tensor> batches;  ///< each [n, C, S, S] float or [n, 2, L] int64 tokens
  int64_t samples = 0;
  std::string source;  ///< e.g. "16 samples of the val split of /data/flowers"
};
VerificationInputs verificationInputs(const Dataset* dataset, const ModelBundleInfo& info,
                                      int max = 16);
/// The same from given samples (e.g. the validation split a run actually used, which a dataset
/// without a stored split does not know); `what` names them ("the val split").
VerificationInputs verificationInputs(const Dataset& dataset, const std::vector<size_t>& samples,
                                      const std::string& what, const ModelBundleInfo& info,
                                      int max = 16);

struct FileCheck {
  std::string file;  ///< e.g. "model.onnx"
  int64_t samples = 0;
  double maxProbabilityDifference = 0;
  int64_t top1Mismatches = 0;
  bool ok() const { return top1Mismatches == 0 && maxProbabilityDifference <= kExportTolerance; }
};

/// {"max_probability_difference", "top1_identical"}: how model.json's "verified" and
/// `export --json` report one file.
nlohmann::json checkJson(const FileCheck& check);

struct ExportOptions {
  bool onnx = false;  ///< also write model.onnx (fails for imported TorchScript backbones)
};

struct ExportReport {
  std::filesystem::path dir;
  std::vector<FileCheck> checks;
  std::string inputs;      ///< VerificationInputs::source
  OnnxExportSummary onnx;  ///< bytes == 0 when no ONNX file was written
};

/// Progress: the step being done ("writing model.onnx", "verifying model.onnx"), and how
/// many of `total` steps are done.
using ExportProgress = std::function<void(const std::string& step, int done, int total)>;

/// Writes, verifies and commits the bundle `dir` (see the top of this file). `dir` may be a new
/// folder, an empty one, or an existing bundle (replaced); anything else is refused.
ExportReport exportVerifiedBundle(const std::filesystem::path& dir, ImageClassifierImpl& net,
                                  const ModelBundleInfo& info, const VerificationInputs& inputs,
                                  const ExportOptions& options = {},
                                  const ExportProgress& progress = {},
                                  const std::atomic<bool>* cancel = nullptr);

/// One line per file: "model.onnx: 16 samples, top-1 identical, largest difference 2.1e-07".
std::string describe(const ExportReport& report);

}  // namespace tlab::core
