#include "core/train/TrainConfig.h"
#include "core/train/TrainerEvents.h"

#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/util/Json.h"

namespace tlab::core {
using nlohmann::json;

const char* strategyName(Strategy s) {
  switch (s) {
    case Strategy::LinearProbe:
      return "linear-probe";
    case Strategy::Full:
      return "full";
    case Strategy::LpFt:
      return "lp-ft";
    case Strategy::Scratch:
      return "scratch";
    case Strategy::FinetuneLast:
      break;
  }
  return "finetune-last";
}

Strategy parseStrategy(const std::string& n) {
  for (auto s : {Strategy::LinearProbe, Strategy::FinetuneLast, Strategy::Full, Strategy::LpFt,
                 Strategy::Scratch}) {
    if (n == strategyName(s)) return s;
  }
  throw InvalidArgument("unknown strategy '" + n +
                        "' (expected linear-probe, finetune-last, full, lp-ft or scratch)");
}

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

const char* optimizerName(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::Sgd:
      return "sgd";
    case OptimizerKind::Adam:
      return "adam";
    case OptimizerKind::AdamW:
      break;
  }
  return "adamw";
}

OptimizerKind parseOptimizer(const std::string& n) {
  for (auto k : {OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::AdamW}) {
    if (n == optimizerName(k)) return k;
  }
  throw InvalidArgument("unknown optimizer '" + n + "' (expected sgd, adam or adamw)");
}

namespace {
BatchNormPolicy parseBn(const std::string& n) {
  for (auto p : {BatchNormPolicy::FollowFreeze, BatchNormPolicy::AlwaysTrain,
                 BatchNormPolicy::AlwaysFrozen}) {
    if (n == batchNormPolicyName(p)) return p;
  }
  throw InvalidArgument("unknown BatchNorm policy '" + n + "'");
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
  json rules = json::array();
  for (const auto& r : c.lrRules)
    rules.push_back({{"pattern", r.pattern}, {"multiplier", r.multiplier}});
  json freeze = json::array();
  for (const auto& r : c.freezeRules)
    freeze.push_back({{"pattern", r.pattern}, {"frozen", r.frozen}});
  return {{"backbone", c.backbone},
          {"weights", c.weights},
          {"strategy", strategyName(c.strategy)},
          {"finetune_stages", c.finetuneStages},
          {"lp_epochs", c.lpEpochs},
          {"ft_lr_factor", c.ftLrFactor},
          {"epochs", c.epochs},
          {"batch_size", c.batchSize},
          {"image_size", c.imageSize},
          {"lr", c.lr},
          {"optimizer", optimizerName(c.optimizer)},
          {"momentum", c.momentum},
          {"nesterov", c.nesterov},
          {"weight_decay", c.weightDecay},
          {"schedule", scheduleName(c.schedule)},
          {"warmup_epochs", c.warmupEpochs},
          {"step_epochs", c.stepEpochs},
          {"step_gamma", c.stepGamma},
          {"label_smoothing", c.labelSmoothing},
          {"class_weighted", c.classWeighted},
          {"grad_clip_norm", c.gradClipNorm},
          {"early_stopping_patience", c.earlyStoppingPatience},
          {"early_stopping_metric",
           c.earlyStoppingMetric == EarlyStopMetric::ValLoss ? "val_loss" : "val_accuracy"},
          {"restore_best", c.restoreBest},
          {"seed", c.seed},
          {"deterministic", c.deterministic},
          {"head", c.head == HeadSpec::Kind::Mlp ? "mlp" : "linear"},
          {"head_hidden", c.headHidden},
          {"dropout", c.dropout},
          {"bn_policy", batchNormPolicyName(c.batchNorm)},
          {"backbone_lr_multiplier", c.backboneLrMultiplier},
          {"lr_rules", rules},
          {"freeze_rules", freeze},
          {"gradual_unfreeze_every", c.gradualUnfreezeEvery},
          {"augment", c.augmentation.enabled},
          {"aug_min_scale", c.augmentation.minScale},
          {"aug_max_scale", c.augmentation.maxScale},
          {"aug_min_ratio", c.augmentation.minRatio},
          {"aug_max_ratio", c.augmentation.maxRatio},
          {"aug_hflip", c.augmentation.hflipProbability},
          {"aug_rotation", c.augmentation.rotationDegrees},
          {"aug_brightness", c.augmentation.brightness},
          {"aug_contrast", c.augmentation.contrast},
          {"aug_saturation", c.augmentation.saturation},
          {"feature_cache", c.featureCache},
          {"workers", c.workers},
          {"val_fraction", c.valFraction},
          {"test_fraction", c.testFraction},
          {"checkpoint_every", c.checkpointEvery}};
}

void fromJson(const json& j, TrainConfig& c, const std::string& source) {
  if (!j.is_object()) throw FormatError(source, "run config must be a JSON object");
  const json known = toJson(c);
  for (const auto& [key, value] : j.items()) {
    if (!known.contains(key)) throw FormatError(source, "unknown config key '" + key + "'");
  }
  try {
    auto get = [&](const char* k, auto& field) {
      using T = std::decay_t<decltype(field)>;
      if (!j.contains(k)) return;
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        field = jsonIntegerAs<T>(j.at(k), source, k);
      } else {
        field = j.at(k).get<T>();
      }
    };
    get("backbone", c.backbone);
    get("weights", c.weights);
    if (j.contains("strategy")) c.strategy = parseStrategy(j["strategy"].get<std::string>());
    get("finetune_stages", c.finetuneStages);
    get("lp_epochs", c.lpEpochs);
    get("ft_lr_factor", c.ftLrFactor);
    get("epochs", c.epochs);
    get("batch_size", c.batchSize);
    get("image_size", c.imageSize);
    get("lr", c.lr);
    if (j.contains("optimizer")) c.optimizer = parseOptimizer(j["optimizer"].get<std::string>());
    get("momentum", c.momentum);
    get("nesterov", c.nesterov);
    get("weight_decay", c.weightDecay);
    if (j.contains("schedule")) c.schedule = parseSchedule(j["schedule"].get<std::string>());
    get("warmup_epochs", c.warmupEpochs);
    get("step_epochs", c.stepEpochs);
    get("step_gamma", c.stepGamma);
    get("label_smoothing", c.labelSmoothing);
    get("class_weighted", c.classWeighted);
    get("grad_clip_norm", c.gradClipNorm);
    get("early_stopping_patience", c.earlyStoppingPatience);
    if (j.contains("early_stopping_metric")) {
      const auto m = j["early_stopping_metric"].get<std::string>();
      if (m != "val_accuracy" && m != "val_loss")
        throw InvalidArgument("early_stopping_metric: val_accuracy or val_loss");
      c.earlyStoppingMetric =
          m == "val_loss" ? EarlyStopMetric::ValLoss : EarlyStopMetric::ValAccuracy;
    }
    get("restore_best", c.restoreBest);
    get("seed", c.seed);
    get("deterministic", c.deterministic);
    if (j.contains("head"))
      c.head = j["head"].get<std::string>() == "mlp" ? HeadSpec::Kind::Mlp : HeadSpec::Kind::Linear;
    get("head_hidden", c.headHidden);
    get("dropout", c.dropout);
    if (j.contains("bn_policy")) c.batchNorm = parseBn(j["bn_policy"].get<std::string>());
    get("backbone_lr_multiplier", c.backboneLrMultiplier);
    if (j.contains("freeze_rules")) {
      c.freezeRules.clear();
      for (const auto& r : j["freeze_rules"])
        c.freezeRules.push_back({r.at("pattern").get<std::string>(), r.at("frozen").get<bool>()});
    }
    if (j.contains("lr_rules")) {
      c.lrRules.clear();
      for (const auto& r : j["lr_rules"])
        c.lrRules.push_back({r.at("pattern").get<std::string>(), r.at("multiplier").get<double>()});
    }
    get("gradual_unfreeze_every", c.gradualUnfreezeEvery);
    get("augment", c.augmentation.enabled);
    get("aug_min_scale", c.augmentation.minScale);
    get("aug_max_scale", c.augmentation.maxScale);
    get("aug_min_ratio", c.augmentation.minRatio);
    get("aug_max_ratio", c.augmentation.maxRatio);
    get("aug_hflip", c.augmentation.hflipProbability);
    get("aug_rotation", c.augmentation.rotationDegrees);
    get("aug_brightness", c.augmentation.brightness);
    get("aug_contrast", c.augmentation.contrast);
    get("aug_saturation", c.augmentation.saturation);
    validateAugmentation(c.augmentation);
    get("feature_cache", c.featureCache);
    get("workers", c.workers);
    get("val_fraction", c.valFraction);
    get("test_fraction", c.testFraction);
    get("checkpoint_every", c.checkpointEvery);
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
