#include "core/train/TrainConfig.h"
#include "core/train/TrainerEvents.h"

#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

#include "core/Errors.h"
#include "core/util/Json.h"

namespace tlab::core {
using nlohmann::json;

const char* strategyName(Strategy s) { return kStrategyNames.name(s); }

Strategy parseStrategy(const std::string& n) { return kStrategyNames.parse(n, "strategy"); }

TrainConfig withStrategyDefaults(TrainConfig c, Strategy s) {
  c.strategy = s;
  switch (s) {
    case Strategy::LinearProbe:  // the backbone is frozen: its multiplier does not matter
      c.lr = 1e-2;
      c.epochs = 10;
      c.backboneLrMultiplier = 1.0;
      break;
    case Strategy::FinetuneLast:  // the stages it unfreezes are the ones that must adapt
      c.lr = 1e-3;
      c.epochs = 10;
      c.backboneLrMultiplier = 1.0;
      break;
    case Strategy::Full:  // early, generic features change slowly
      c.lr = 1e-3;
      c.epochs = 10;
      c.backboneLrMultiplier = 0.1;
      break;
    case Strategy::LpFt:  // the fine-tune phase is already at lr x ftLrFactor
      c.lr = 3e-3;
      c.epochs = 12;
      c.backboneLrMultiplier = 1.0;
      break;
    case Strategy::Scratch:
      c.lr = 3e-3;
      c.epochs = 20;
      c.backboneLrMultiplier = 1.0;
      break;
  }
  c.ftLrFactor = 0.1;
  return c;
}

TrainConfig trainConfigFromJson(const json& j, const std::string& source) {
  TrainConfig c = defaultTrainConfig();
  if (j.is_object() && j.contains("strategy") && j["strategy"].is_string()) {
    try {
      c = withStrategyDefaults(c, parseStrategy(j["strategy"].get<std::string>()));
    } catch (const InvalidArgument&) {  // fromJson below reports it, naming the file
    }
  }
  fromJson(j, c, source);
  return c;
}

TrainConfig defaultTrainConfig() {
  const TrainConfig base;
  return withStrategyDefaults(base, base.strategy);
}

const char* optimizerName(OptimizerKind k) { return kOptimizerNames.name(k); }

OptimizerKind parseOptimizer(const std::string& n) { return kOptimizerNames.parse(n, "optimizer"); }

namespace {

// The one table of config fields: JSON key and member, in file order. toJson writes every
// field, fromJson reads any subset and refuses keys not listed here.
template <typename Config, typename Visit>
void forEachField(Config& c, Visit&& v) {
  v("backbone", c.backbone);
  v("weights", c.weights);
  v("strategy", c.strategy);
  v("finetune_stages", c.finetuneStages);
  v("lp_epochs", c.lpEpochs);
  v("ft_lr_factor", c.ftLrFactor);
  v("epochs", c.epochs);
  v("batch_size", c.batchSize);
  v("image_size", c.imageSize);
  v("lr", c.lr);
  v("optimizer", c.optimizer);
  v("momentum", c.momentum);
  v("nesterov", c.nesterov);
  v("weight_decay", c.weightDecay);
  v("schedule", c.schedule);
  v("warmup_epochs", c.warmupEpochs);
  v("step_epochs", c.stepEpochs);
  v("step_gamma", c.stepGamma);
  v("label_smoothing", c.labelSmoothing);
  v("class_weighted", c.classWeighted);
  v("grad_clip_norm", c.gradClipNorm);
  v("early_stopping_patience", c.earlyStoppingPatience);
  v("early_stopping_metric", c.earlyStoppingMetric);
  v("restore_best", c.restoreBest);
  v("seed", c.seed);
  v("deterministic", c.deterministic);
  v("head", c.head);
  v("head_hidden", c.headHidden);
  v("dropout", c.dropout);
  v("bn_policy", c.batchNorm);
  v("backbone_lr_multiplier", c.backboneLrMultiplier);
  v("lr_rules", c.lrRules);
  v("freeze_rules", c.freezeRules);
  v("gradual_unfreeze_every", c.gradualUnfreezeEvery);
  v("augment", c.augmentation.enabled);
  v("aug_min_scale", c.augmentation.minScale);
  v("aug_max_scale", c.augmentation.maxScale);
  v("aug_min_ratio", c.augmentation.minRatio);
  v("aug_max_ratio", c.augmentation.maxRatio);
  v("aug_hflip", c.augmentation.hflipProbability);
  v("aug_rotation", c.augmentation.rotationDegrees);
  v("aug_brightness", c.augmentation.brightness);
  v("aug_contrast", c.augmentation.contrast);
  v("aug_saturation", c.augmentation.saturation);
  v("feature_cache", c.featureCache);
  v("workers", c.workers);
  v("precision", c.precision);
  v("val_fraction", c.valFraction);
  v("test_fraction", c.testFraction);
  v("checkpoint_every", c.checkpointEvery);
}

// The name table of each enum field.
const auto& names(Strategy) { return kStrategyNames; }
const auto& names(OptimizerKind) { return kOptimizerNames; }
const auto& names(ScheduleKind) { return kScheduleNames; }
const auto& names(EarlyStopMetric) { return kEarlyStopMetricNames; }
const auto& names(HeadSpec::Kind) { return kHeadKindNames; }
const auto& names(BatchNormPolicy) { return kBatchNormPolicyNames; }
const auto& names(Precision) { return kPrecisionNames; }

template <typename T>
json encode(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return names(v).name(v);
  } else {
    return v;
  }
}
json encode(const std::vector<LrRule>& rules) {
  json a = json::array();
  for (const auto& r : rules) a.push_back({{"pattern", r.pattern}, {"multiplier", r.multiplier}});
  return a;
}
json encode(const std::vector<FreezeRule>& rules) {
  json a = json::array();
  for (const auto& r : rules) a.push_back({{"pattern", r.pattern}, {"frozen", r.frozen}});
  return a;
}

template <typename T>
void decode(const json& j, T& field, const std::string& source, const char* key) {
  if constexpr (std::is_enum_v<T>) {
    field = names(field).parse(j.get<std::string>(), key);
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    field = jsonIntegerAs<T>(j, source, key);
  } else {
    field = j.get<T>();
  }
}
void decode(const json& j, std::vector<LrRule>& rules, const std::string&, const char*) {
  rules.clear();
  for (const auto& r : j.get<std::vector<json>>())
    rules.push_back({r.at("pattern").get<std::string>(), r.at("multiplier").get<double>()});
}
void decode(const json& j, std::vector<FreezeRule>& rules, const std::string&, const char*) {
  rules.clear();
  for (const auto& r : j.get<std::vector<json>>())
    rules.push_back({r.at("pattern").get<std::string>(), r.at("frozen").get<bool>()});
}

}  // namespace

void validateAugmentation(const Augmentation& a) {
  auto check = [](bool ok, const char* what) {
    if (!ok) throw InvalidArgument(std::string("augmentation: ") + what);
  };
  check(a.minScale >= 0 && a.minScale <= a.maxScale && a.maxScale <= 1,
        "need 0 <= aug_min_scale <= aug_max_scale <= 1 (0: automatic)");
  check(a.minRatio > 0 && a.minRatio <= a.maxRatio && a.maxRatio <= 10,
        "need 0 < aug_min_ratio <= aug_max_ratio <= 10");
  check(a.hflipProbability >= 0 && a.hflipProbability <= 1, "aug_hflip must be in [0, 1]");
  check(a.rotationDegrees >= 0 && a.rotationDegrees <= 180, "aug_rotation must be in [0, 180]");
  check(a.brightness >= 0 && a.brightness < 1 && a.contrast >= 0 && a.contrast < 1 &&
            a.saturation >= 0 && a.saturation < 1,
        "aug_brightness, aug_contrast and aug_saturation must be in [0, 1)");
}

json toJson(const TrainConfig& c) {
  json j = json::object();
  forEachField(c, [&j](const char* key, const auto& field) { j[key] = encode(field); });
  return j;
}

void fromJson(const json& j, TrainConfig& c, const std::string& source) {
  if (!j.is_object()) throw FormatError(source, "run config must be a JSON object");
  std::set<std::string> known;
  forEachField(c, [&known](const char* key, const auto&) { known.insert(key); });
  for (const auto& [key, value] : j.items()) {
    if (!known.count(key)) throw FormatError(source, "unknown config key '" + key + "'");
  }
  try {
    forEachField(c, [&](const char* key, auto& field) {
      if (const auto it = j.find(key); it != j.end()) decode(*it, field, source, key);
    });
    validateAugmentation(c.augmentation);
  } catch (const json::exception& e) {
    throw FormatError(source, std::string("bad value in run config: ") + e.what());
  } catch (const InvalidArgument& e) {
    throw FormatError(source, e.what());
  }
  if (c.epochs < 1 || c.batchSize < 1 || c.lr <= 0)
    throw FormatError(source, "epochs, batch_size and lr must be positive");
}

json toJson(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"epochs", m.epochs},
          {"phase", m.phase},
          {"train_loss", m.trainLoss},
          {"train_accuracy", m.trainAccuracy},
          {"val_loss", m.valLoss},
          {"val_accuracy", m.valAccuracy},
          {"seconds", m.seconds},
          {"lr", m.learningRate},
          {"improved", m.improved}};
}

EpochMetrics epochMetricsFromJson(const json& h, const std::string& source) {
  EpochMetrics m;
  m.epoch = jsonIntegerAs<int>(h.at("epoch"), source, "history.epoch");
  m.epochs = jsonIntegerAs<int>(h.at("epochs"), source, "history.epochs");
  m.phase = h.at("phase").get<std::string>();
  m.trainLoss = h.at("train_loss").get<double>();
  m.trainAccuracy = h.at("train_accuracy").get<double>();
  m.valLoss = h.at("val_loss").get<double>();
  m.valAccuracy = h.at("val_accuracy").get<double>();
  m.seconds = h.at("seconds").get<double>();
  m.learningRate = h.at("lr").get<double>();
  m.improved = h.at("improved").get<bool>();
  return m;
}

}  // namespace tlab::core
