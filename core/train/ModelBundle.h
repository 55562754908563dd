#pragma once
// A fine-tuned model as a folder a user can hand on: model.safetensors (upstream key names for
// the backbone, so PyTorch users can load it into the torchvision/timm model; the head under
// its own keys) and model.json (architecture, head, class names, preprocessing).
#include <filesystem>
#include <string>
#include <vector>

#include "core/data/Transforms.h"
#include "core/model/ImageClassifier.h"
#include "core/train/Calibration.h"

namespace tlab::core {

struct ModelBundleInfo {
  std::string architecture;  ///< e.g. "efficientnet_lite0"
  std::string backbone;      ///< catalog id it started from
  HeadSpec head;
  std::vector<std::string> classNames;
  Preprocess preprocess;
  /// Probabilities are softmax(logits / temperature) (fitted on the validation split; 1: none).
  double temperature = 1.0;
  /// Calibrated top probability below which a prediction is reported as "unsure" (0: never).
  double unsureBelow = 0.5;
  /// Inputs whose features lie farther than this from every class mean are "unsure" too.
  OodReference ood;
};

/// Writes DIR/model.safetensors and DIR/model.json (each atomically).
void exportModelBundle(const std::filesystem::path& dir, const ImageClassifierImpl& net,
                       const ModelBundleInfo& info);

struct LoadedModel {
  ImageClassifier net;  ///< in eval mode
  ModelBundleInfo info;
};

/// Reads a bundle; every weight must match the described architecture (errors name the key).
LoadedModel loadModelBundle(const std::filesystem::path& dir);

}  // namespace tlab::core
