#pragma once
// The network a run starts from, before its head is replaced: a catalog backbone with its
// pre-trained weights (random ones for a from-scratch run), or a trusted TorchScript file; and
// the preprocessing the run uses. Shared by the trainer and the LR finder, so both start from
// the same network.
#include <filesystem>
#include <functional>
#include <string>

#include "core/data/Transforms.h"
#include "core/dataset/Dataset.h"
#include "core/model/ImageClassifier.h"
#include "core/train/TrainConfig.h"

namespace tlab::core {

struct StartingModel {
  ImageClassifier net;
  Preprocess preprocess;
  std::filesystem::path weightsPath;  ///< empty: random initialisation
  std::string architecture;           ///< "torchscript" for an imported file
};

/// `log` gets one line saying what was loaded. Throws InvalidArgument when the backbone reads
/// another modality than `dataset`, or a TorchScript file is asked to train from scratch.
StartingModel startingModel(const TrainConfig& config, const Dataset& dataset,
                            const std::function<void(const std::string&)>& log);

}  // namespace tlab::core
