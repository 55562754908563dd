#include "core/train/StartingModel.h"

#include "core/Errors.h"
#include "core/model/ScriptBackbone.h"
#include "core/train/TrainPlan.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace {

// A user's TorchScript file (trusted): ImageNet preprocessing at the configured size.
StartingModel scriptModel(const TrainConfig& cfg, const Dataset& dataset,
                          const std::function<void(const std::string&)>& log) {
  if (dataset.modality == Modality::Text)
    throw InvalidArgument("TorchScript backbones read images; " + dataset.source.string() +
                          " is a text dataset");
  if (cfg.strategy == Strategy::Scratch)
    throw InvalidArgument("from scratch needs a built-in architecture");
  StartingModel m;
  m.preprocess = runPreprocess(cfg, BackboneCatalog{});
  m.net = std::make_shared<ScriptBackboneImpl>(loadTorchScript(cfg.backbone),
                                               m.preprocess.inputSize, 3, 10);
  m.weightsPath = cfg.backbone;
  m.architecture = "torchscript";
  log("imported TorchScript backbone " + cfg.backbone + " (" + std::to_string(m.net->featureDim()) +
      " features)");
  return m;
}

}  // namespace

StartingModel startingModel(const TrainConfig& cfg, const Dataset& dataset,
                            const std::function<void(const std::string&)>& log) {
  const auto catalog = BackboneCatalog::loadDefault();
  if (!catalog.find(cfg.backbone) && std::filesystem::is_regular_file(cfg.backbone))
    return scriptModel(cfg, dataset, log);
  const BackboneEntry& entry = catalog.get(cfg.backbone);
  const bool textData = dataset.modality == Modality::Text;
  if (entry.isText() != textData) {
    throw InvalidArgument("backbone '" + entry.id + "' reads " + entry.modality + " but " +
                          dataset.source.string() + " is " + (textData ? "a text" : "an image") +
                          " dataset");
  }
  StartingModel m;
  m.preprocess = runPreprocess(cfg, catalog);
  m.architecture = entry.architecture;
  if (cfg.strategy == Strategy::Scratch) {
    m.net = createArchitecture(
        entry.architecture, std::max<int64_t>(1, int64_t(entry.classNames.size())), entry.channels);
    log("from scratch: " + entry.name + " with random initialisation");
  } else {
    BackboneLoadOptions o;
    o.weightsOverride = cfg.weights;
    LoadedBackbone b = loadBackbone(catalog, cfg.backbone, o);
    m.net = b.net;
    m.weightsPath = b.weightsPath;
    log("loaded " + entry.name + " weights from " + b.weightsPath.string() + ": " +
        b.report.summary());
  }
  return m;
}

}  // namespace tlab::core
