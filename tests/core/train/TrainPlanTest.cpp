#include "core/train/TrainPlan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/zoo/BackboneCatalog.h"

namespace tlab::core {
namespace {

TEST(TrainPlan, AutomaticCropScaleDependsOnTheInputSize) {
  TrainConfig c;
  ASSERT_DOUBLE_EQ(c.augmentation.minScale, 0.0);  // automatic by default
  EXPECT_DOUBLE_EQ(effectiveAugmentation(c, 28).minScale, 0.7);
  EXPECT_DOUBLE_EQ(effectiveAugmentation(c, 64).minScale, 0.7);
  EXPECT_DOUBLE_EQ(effectiveAugmentation(c, 224).minScale, 0.08);
  c.augmentation.minScale = 0.3;  // an explicit choice is kept at every size
  EXPECT_DOUBLE_EQ(effectiveAugmentation(c, 28).minScale, 0.3);
  c.augmentation.minScale = 0;
  c.augmentation.maxScale = 0.5;  // below the automatic minimum: the range still runs forwards
  EXPECT_DOUBLE_EQ(effectiveAugmentation(c, 28).maxScale, 0.7);
}

TEST(TrainPlan, LoaderGetsEveryAugmentationSetting) {
  TrainConfig c;
  c.augmentation.rotationDegrees = 12;
  c.augmentation.hflipProbability = 0;
  c.augmentation.brightness = 0.25;
  c.augmentation.minRatio = 0.9;
  Preprocess p;
  p.inputSize = 28;
  const LoaderOptions lo = trainLoaderOptions(c, p);
  EXPECT_TRUE(lo.augmentation.enabled);
  EXPECT_DOUBLE_EQ(lo.augmentation.rotationDegrees, 12);
  EXPECT_DOUBLE_EQ(lo.augmentation.hflipProbability, 0);
  EXPECT_DOUBLE_EQ(lo.augmentation.brightness, 0.25);
  EXPECT_DOUBLE_EQ(lo.augmentation.minRatio, 0.9);
  EXPECT_DOUBLE_EQ(lo.augmentation.minScale, 0.7);
  c.augmentation.enabled = false;
  EXPECT_FALSE(trainLoaderOptions(c, p).augmentation.enabled);
}

TEST(TrainPlan, FeatureCacheServesOnlyFrozenBackbonePhases) {
  TrainConfig c;
  c.epochs = 6;
  c.strategy = Strategy::LinearProbe;
  EXPECT_TRUE(phaseUsesFeatureCache(c, trainPhases(c)[0]));
  c.featureCache = false;
  EXPECT_FALSE(phaseUsesFeatureCache(c, trainPhases(c)[0]));
  c.featureCache = true;
  c.freezeRules = {{"features.6", false}};  // the user unfreezes a block: pixels needed
  EXPECT_FALSE(phaseUsesFeatureCache(c, trainPhases(c)[0]));
  c.freezeRules.clear();
  c.batchNorm = BatchNormPolicy::AlwaysTrain;
  EXPECT_FALSE(phaseUsesFeatureCache(c, trainPhases(c)[0]));
  c.batchNorm = BatchNormPolicy::FollowFreeze;
  c.strategy = Strategy::LpFt;
  const auto phases = trainPhases(c);
  ASSERT_EQ(phases.size(), 2u);
  EXPECT_TRUE(phaseUsesFeatureCache(c, phases[0]));
  EXPECT_FALSE(phaseUsesFeatureCache(c, phases[1]));
  c.strategy = Strategy::FinetuneLast;
  EXPECT_FALSE(phaseUsesFeatureCache(c, trainPhases(c)[0]));
}

TEST(TrainPlan, AugmentationValidationNamesTheSetting) {
  Augmentation a;
  EXPECT_NO_THROW(validateAugmentation(a));
  a.rotationDegrees = 200;
  try {
    validateAugmentation(a);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("aug_rotation"), std::string::npos) << e.what();
  }
  a.rotationDegrees = 0;
  a.minRatio = 2;
  a.maxRatio = 1;
  EXPECT_THROW(validateAugmentation(a), InvalidArgument);
}

// Found in review: an unknown "head" value silently became Linear while other enums threw.
TEST(TrainConfigJson, AnUnknownEnumNameIsRefusedNamingTheFileAndTheKey) {
  for (const char* key :
       {"head", "strategy", "optimizer", "schedule", "bn_policy", "early_stopping_metric"}) {
    try {
      trainConfigFromJson(nlohmann::json{{key, "mpl"}}, "runs/run-1/config.json");
      ADD_FAILURE() << key << " accepted 'mpl'";
    } catch (const FormatError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("runs/run-1/config.json"), std::string::npos) << m;
      EXPECT_NE(m.find(key), std::string::npos) << m;
      EXPECT_NE(m.find("'mpl'"), std::string::npos) << m;
    }
  }
  EXPECT_EQ(trainConfigFromJson(nlohmann::json{{"head", "mlp"}}, "x").head, HeadSpec::Kind::Mlp);
}

TEST(TrainConfigJson, EveryFieldSurvivesARoundTrip) {
  TrainConfig c = defaultTrainConfig();
  c.strategy = Strategy::LpFt;
  c.optimizer = OptimizerKind::Sgd;
  c.schedule = ScheduleKind::OneCycle;
  c.earlyStoppingMetric = EarlyStopMetric::ValLoss;
  c.head = HeadSpec::Kind::Mlp;
  c.batchNorm = BatchNormPolicy::AlwaysFrozen;
  c.lrRules = {{"layer4", 0.5}};
  c.freezeRules = {{"layer1", true}};
  c.seed = 1234567890123ULL;
  c.augmentation.rotationDegrees = 12;
  const nlohmann::json j = toJson(c);
  EXPECT_EQ(j.at("strategy"), "lp-ft");
  EXPECT_EQ(j.at("head"), "mlp");
  EXPECT_EQ(j.at("early_stopping_metric"), "val_loss");
  EXPECT_EQ(toJson(trainConfigFromJson(j, "x")), j);
}

TEST(TrainPlan, RunPreprocessFollowsTheBackboneAndTheSizeOverride) {
  const auto catalog = BackboneCatalog::loadDefault();
  TrainConfig c;
  c.backbone = "small_cnn_fmnist";
  Preprocess p = runPreprocess(c, catalog);
  EXPECT_EQ(p.inputSize, catalog.get("small_cnn_fmnist").inputSize);
  EXPECT_EQ(p.channels, catalog.get("small_cnn_fmnist").channels);
  c.imageSize = 40;
  EXPECT_EQ(runPreprocess(c, catalog).inputSize, 40);
  c.backbone = "/somewhere/imported.pt";  // not in the catalog: an imported TorchScript file
  c.imageSize = 0;
  p = runPreprocess(c, catalog);
  EXPECT_EQ(p.inputSize, 224);
  EXPECT_EQ(p.channels, 3);
  EXPECT_DOUBLE_EQ(p.cropFraction, 1.0);
}

}  // namespace
}  // namespace tlab::core
