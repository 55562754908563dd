#include "core/train/TrainPlan.h"

#include <algorithm>

#include "core/model/ImageClassifier.h"
#include "core/zoo/BackboneCatalog.h"

namespace tlab::core {

HeadSpec headSpec(const TrainConfig& c, int64_t numClasses) {
  return {c.head, numClasses, c.headHidden, c.dropout};
}

std::vector<TrainPhase> trainPhases(const TrainConfig& c) {
  const int lp = c.lpEpochs > 0 ? std::min(c.lpEpochs, c.epochs - 1) : std::max(1, c.epochs / 3);
  switch (c.strategy) {
    case Strategy::LinearProbe:
      return {{"linear-probe", 0, c.epochs, c.lr, true, 0}};
    case Strategy::FinetuneLast:
      return {{"fine-tune-last", 0, c.epochs, c.lr, false, c.finetuneStages}};
    case Strategy::Full:
      return {{"full", 0, c.epochs, c.lr, false, -1}};
    case Strategy::Scratch:
      return {{"scratch", 0, c.epochs, c.lr, false, -1}};
    case Strategy::LpFt:
      if (c.epochs < 2) return {{"linear-probe", 0, c.epochs, c.lr, true, 0}};
      return {{"linear-probe", 0, lp, c.lr, true, 0},
              {"fine-tune", lp, c.epochs - lp, c.lr * c.ftLrFactor, false, -1}};
  }
  return {};
}

bool phaseUsesFeatureCache(const TrainConfig& c, const TrainPhase& p) {
  const bool userUnfreezes = std::any_of(c.freezeRules.begin(), c.freezeRules.end(),
                                         [](const FreezeRule& r) { return !r.frozen; });
  return p.backboneFrozen && c.featureCache && !userUnfreezes &&
         c.batchNorm != BatchNormPolicy::AlwaysTrain && c.gradualUnfreezeEvery == 0;
}

FreezeSpec phaseFreezeSpec(const TrainConfig& c, const ImageClassifierImpl& net,
                           const TrainPhase& p, int epoch) {
  FreezeSpec s;
  if (c.gradualUnfreezeEvery > 0 && !p.backboneFrozen) {
    s = gradualUnfreezeSpec(net, epoch - p.firstEpoch, 0, c.gradualUnfreezeEvery, c.batchNorm);
  } else if (p.trainableStages >= 0) {
    s = FreezeSpec::lastStagesTrainable(net, p.trainableStages);
  }
  s.batchNorm = c.batchNorm;
  for (const auto& r : c.freezeRules) s.rules.push_back(r);
  if (c.backboneLrMultiplier != 1.0) {
    s.lrRules.push_back({"*", c.backboneLrMultiplier});
    s.lrRules.push_back({net.headName(), 1.0});
  }
  for (const auto& r : c.lrRules) s.lrRules.push_back(r);
  return s;
}

LoaderOptions trainLoaderOptions(const TrainConfig& c, const Preprocess& preprocess) {
  LoaderOptions lo;
  lo.batchSize = size_t(c.batchSize);
  lo.workers = c.workers;
  lo.seed = c.seed;
  lo.preprocess = preprocess;
  lo.augmentation = effectiveAugmentation(c, preprocess.inputSize);
  lo.groupByLength = true;
  return lo;
}

Augmentation effectiveAugmentation(const TrainConfig& c, int inputSize) {
  Augmentation a = c.augmentation;
  // Automatic crop scale: tiny images (28 px Fashion-MNIST) lose their object under the
  // ImageNet-style 8% crops, so they get gentler ones.
  if (a.minScale <= 0) a.minScale = inputSize <= 64 ? 0.7 : 0.08;
  a.maxScale = std::max(a.maxScale, a.minScale);
  return a;
}

Preprocess runPreprocess(const TrainConfig& c, const BackboneCatalog& catalog) {
  Preprocess p;
  if (const BackboneEntry* entry = catalog.find(c.backbone)) {
    p = entry->preprocess();
  } else {
    p.inputSize = 224;
    p.cropFraction = 1.0;
  }
  if (c.imageSize > 0) p.inputSize = c.imageSize;
  return p;
}

std::vector<int> unfreezeEpochs(const TrainConfig& c, const ImageClassifierImpl& net) {
  const auto stages = net.stages();
  std::vector<int> when(stages.size(), 0);
  for (const TrainPhase& p : trainPhases(c)) {
    for (int e = p.firstEpoch; e < p.firstEpoch + p.epochs; ++e) {
      const FreezeSpec s = phaseFreezeSpec(c, net, p, e);
      for (size_t i = 0; i < stages.size(); ++i) {
        if (when[i] || stages[i].modules.empty()) continue;
        // A stage trains when its first module's parameters are not frozen by the spec.
        if (!s.isFrozen(stages[i].modules.front() + ".weight", net.headName())) when[i] = e + 1;
      }
    }
  }
  return when;
}

}  // namespace tlab::core
