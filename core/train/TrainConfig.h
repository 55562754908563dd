#pragma once
// Everything that defines a training run, as a plain value (saved with every checkpoint and as
// config.json in the run folder). JSON keys are the snake_case field names.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/data/Transforms.h"
#include "core/model/FreezeSpec.h"
#include "core/model/ImageClassifier.h"
#include "core/train/LrSchedule.h"
#include "core/train/Precision.h"
#include "core/util/EnumNames.h"

namespace tlab::core {

enum class Strategy { LinearProbe, FinetuneLast, Full, LpFt, Scratch };
inline constexpr auto kStrategyNames = makeNameTable(
    std::pair{Strategy::LinearProbe, "linear-probe"},
    std::pair{Strategy::FinetuneLast, "finetune-last"}, std::pair{Strategy::Full, "full"},
    std::pair{Strategy::LpFt, "lp-ft"}, std::pair{Strategy::Scratch, "scratch"});
const char* strategyName(Strategy s);
Strategy parseStrategy(const std::string& name);

enum class OptimizerKind { Sgd, Adam, AdamW };
inline constexpr auto kOptimizerNames =
    makeNameTable(std::pair{OptimizerKind::Sgd, "sgd"}, std::pair{OptimizerKind::Adam, "adam"},
                  std::pair{OptimizerKind::AdamW, "adamw"});
const char* optimizerName(OptimizerKind k);
OptimizerKind parseOptimizer(const std::string& name);

enum class EarlyStopMetric { ValAccuracy, ValLoss };
inline constexpr auto kEarlyStopMetricNames =
    makeNameTable(std::pair{EarlyStopMetric::ValAccuracy, "val_accuracy"},
                  std::pair{EarlyStopMetric::ValLoss, "val_loss"});

struct TrainConfig {
  std::string backbone = "small_cnn_fmnist";  ///< catalog id
  std::string weights;                        ///< optional weights file overriding the catalog's
  Strategy strategy = Strategy::FinetuneLast;
  int finetuneStages = 2;   ///< finetune-last: stages trained besides the head
  int lpEpochs = 0;         ///< lp-ft: epochs of the linear-probe phase (0: a third of epochs)
  double ftLrFactor = 0.1;  ///< lp-ft: fine-tune phase rate = lr * factor
  int epochs = 10;
  int64_t batchSize = 32;
  int imageSize = 0;  ///< 0: the backbone's input size
  double lr = 1e-3;
  OptimizerKind optimizer = OptimizerKind::AdamW;
  double momentum = 0.9;
  bool nesterov = false;
  double weightDecay = 1e-4;
  ScheduleKind schedule = ScheduleKind::Cosine;
  double warmupEpochs = 0;
  int stepEpochs = 3;  ///< step schedule: decay every N epochs
  double stepGamma = 0.1;
  double labelSmoothing = 0;
  bool classWeighted = false;     ///< loss weights inversely proportional to class frequency
  double gradClipNorm = 0;        ///< 0: off
  int earlyStoppingPatience = 0;  ///< epochs without improvement before stopping; 0: off
  EarlyStopMetric earlyStoppingMetric = EarlyStopMetric::ValAccuracy;
  bool restoreBest = true;  ///< end with the best validation epoch's weights
  uint64_t seed = 42;
  bool deterministic = false;
  HeadSpec::Kind head = HeadSpec::Kind::Linear;
  int64_t headHidden = 256;
  double dropout = 0.2;
  BatchNormPolicy batchNorm = BatchNormPolicy::FollowFreeze;
  double backboneLrMultiplier = 1.0;    ///< discriminative rate for all backbone parameters
  std::vector<LrRule> lrRules;          ///< finer per-module multipliers (applied after)
  std::vector<FreezeRule> freezeRules;  ///< the user's own freeze/unfreeze choices (layer tree),
                                        ///< applied after the strategy's

  int gradualUnfreezeEvery = 0;  ///< >0: unfreeze one more stage every N epochs
  /// Training-image augmentation (`enabled` is the on/off switch). minScale 0 means automatic:
  /// see effectiveAugmentation() in TrainPlan.h. Texts are never augmented.
  Augmentation augmentation{true, 0.0};
  bool featureCache = true;  ///< cache frozen-backbone features when nothing else needs pixels
  int workers = 2;
  /// fp32, bf16 (autocast) or auto: bf16 only on CPUs with native bf16 (see Precision.h).
  Precision precision = Precision::Auto;
  double valFraction = 0.1, testFraction = 0.1;  ///< used where the dataset has no such split
  int checkpointEvery = 1;                       ///< epochs; 0: no checkpoints
};

/// The usual starting point of each strategy, the one both front ends use when the user picks a
/// strategy (GUI: the strategy box; CLI: --strategy or the config's "strategy"): learning rate,
/// epochs and the backbone's rate relative to the head. Everything else is kept.
/// They depend on the strategy alone, so switching strategies back and forth is harmless:
///   linear-probe   lr 1e-2, 10 epochs (a head alone on frozen features takes a larger step)
///   finetune-last  lr 1e-3, 10 epochs, backbone x1 (x0.1 measured 0.789 against 0.830 on the
///                  few-shot Fashion-MNIST experiment of the README)
///   full           lr 1e-3, 10 epochs, backbone x0.1
///   lp-ft          lr 3e-3, 12 epochs, backbone x1, fine-tune phase at lr x0.1
///   scratch        lr 3e-3, 20 epochs, backbone x1 (nothing pre-trained to protect)
/// (ftLrFactor is 0.1 for every strategy; only lp-ft uses it.)
TrainConfig withStrategyDefaults(TrainConfig config, Strategy strategy);

/// What a new project and a CLI run without a config start from: TrainConfig's defaults with
/// its strategy's defaults applied.
TrainConfig defaultTrainConfig();

/// Throws InvalidArgument naming the first out-of-range augmentation setting.
void validateAugmentation(const Augmentation& augmentation);

nlohmann::json toJson(const TrainConfig& config);
/// Reads the keys present in `j` over `config` (unknown keys are errors naming them).
void fromJson(const nlohmann::json& j, TrainConfig& config, const std::string& source);

/// A config as a person writes it (a --config file, a project): the keys present, over the
/// defaults of the strategy it names (defaultTrainConfig() when it names none).
TrainConfig trainConfigFromJson(const nlohmann::json& j, const std::string& source);

}  // namespace tlab::core
