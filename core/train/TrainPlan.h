#pragma once
// What a TrainConfig means epoch by epoch: its phases (LP-FT has two) and, for each epoch, which
// parameters train at which rate. Shared by the training session and by the GUI's layer tree
// and unfreezing timeline, so what the user sees is what runs.
#include <string>
#include <vector>

#include "core/data/DataLoader.h"
#include "core/model/FreezeSpec.h"
#include "core/train/TrainConfig.h"

namespace tlab::core {
class BackboneCatalog;

struct TrainPhase {
  std::string name;
  int firstEpoch = 0;  ///< global, 0-based
  int epochs = 0;
  double lr = 0;
  bool backboneFrozen = false;  ///< linear-probe phases: the feature cache may serve them
  int trainableStages = -1;     ///< -1: all
};

std::vector<TrainPhase> trainPhases(const TrainConfig& config);

/// The head training attaches for a dataset of `numClasses` classes (the layer tree shows it).
HeadSpec headSpec(const TrainConfig& config, int64_t numClasses);

/// Whether `phase` trains the head on cached backbone features, so its images are never
/// augmented: a frozen-backbone phase with the feature cache on, no user rule unfreezing part of
/// the backbone, BatchNorm statistics not always training, no gradual unfreezing.
bool phaseUsesFeatureCache(const TrainConfig& config, const TrainPhase& phase);

/// The freeze spec in force at global `epoch` (0-based) of `phase`: the strategy's stages or
/// gradual unfreezing, then the user's freeze rules, BatchNorm policy and learning-rate rules.
FreezeSpec phaseFreezeSpec(const TrainConfig& config, const ImageClassifierImpl& net,
                           const TrainPhase& phase, int epoch);

/// How training batches are drawn (training and the LR range test alike): the config's batch
/// size, workers, seed and effectiveAugmentation(); texts grouped by length.
LoaderOptions trainLoaderOptions(const TrainConfig& config, const Preprocess& preprocess);

/// The augmentation training applies to images of `inputSize` pixels: the config's, with an
/// automatic crop scale (minScale 0) resolved to 0.08, or 0.7 for inputs of 64 px or less.
/// The GUI's augmentation preview uses this too, so it shows what the trainer will do.
Augmentation effectiveAugmentation(const TrainConfig& config, int inputSize);

/// The input pipeline of a run: the catalog backbone's, at `imageSize` when that is set; for a
/// backbone outside the catalog (an imported TorchScript file) ImageNet statistics, the whole
/// image, 224 px unless `imageSize` says otherwise. Text backbones load their tokenizer.
Preprocess runPreprocess(const TrainConfig& config, const BackboneCatalog& catalog);

/// Gradual unfreezing timeline: for each backbone stage (forward order), the 1-based epoch at
/// which it starts training; 0 when it never does within the run.
std::vector<int> unfreezeEpochs(const TrainConfig& config, const ImageClassifierImpl& net);

}  // namespace tlab::core
