#include "core/train/LrFinder.h"

#include <cmath>

#include "core/Errors.h"
#include "core/data/DataLoader.h"
#include "core/dataset/Split.h"
#include "core/model/FreezeSpec.h"
#include "core/train/ModelInput.h"
#include "core/train/Optimizer.h"
#include "core/train/StartingModel.h"
#include "core/train/TrainPlan.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {

double suggestLearningRate(const std::vector<double>& lrs, const std::vector<double>& s) {
  if (lrs.size() < 3) return lrs.empty() ? 0 : lrs.front();
  const size_t minAt = size_t(std::min_element(s.begin(), s.end()) - s.begin());
  double steepest = 0;
  size_t best = 0;
  for (size_t i = 1; i <= minAt && i < s.size(); ++i) {
    const double slope = (s[i] - s[i - 1]) / (std::log(lrs[i]) - std::log(lrs[i - 1]));
    if (slope < steepest) {
      steepest = slope;
      best = i;
    }
  }
  return best > 0 ? lrs[best] : lrs[minAt] / 10.0;
}

namespace {

// The sweep: one step per rate on an exponential scale, until the loss diverges or turns
// NaN, or the caller cancels.
void sweep(ImageClassifierImpl& net, torch::optim::Optimizer& opt, DataLoader& loader,
           const LrFinderOptions& o, LrFinderResult& r) {
  const torch::Device device = deviceOf(net);
  double avg = 0, best = INFINITY;
  uint64_t epoch = 0;
  loader.startEpoch(epoch);
  for (int i = 0; i < o.steps; ++i) {
    if (o.cancel && o.cancel->load()) {
      r.note = "cancelled";
      return;
    }
    auto b = loader.next();
    if (!b) {
      loader.startEpoch(++epoch);
      b = loader.next();
      if (!b) return;
    }
    const double lr = o.startLr * std::pow(o.endLr / o.startLr, double(i) / double(o.steps - 1));
    for (auto& g : opt.param_groups()) g.options().set_lr(lr);
    opt.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(net.forward(inputTensor(*b).to(device)),
                                                           labelsTensor(*b).to(device));
    const double l = loss.item<double>();
    if (!std::isfinite(l)) {
      r.note = "stopped at lr " + std::to_string(lr) + ": the loss became NaN/inf";
      return;
    }
    loss.backward();
    opt.step();
    avg = o.smoothing * avg + (1 - o.smoothing) * l;
    const double smooth = avg / (1 - std::pow(o.smoothing, double(i + 1)));
    r.lrs.push_back(lr);
    r.losses.push_back(l);
    r.smoothed.push_back(smooth);
    if (o.progress) o.progress(i + 1, lr, l);
    best = std::min(best, smooth);
    if (i > 5 && smooth > o.divergeFactor * best) {
      r.note = "stopped at lr " + std::to_string(lr) + ": the loss diverged";
      return;
    }
  }
}

}  // namespace

LrFinderResult findLearningRate(const TrainConfig& cfg, std::shared_ptr<const Dataset> source,
                                const LrFinderOptions& o) {
  if (o.steps < 3 || o.startLr <= 0 || o.endLr <= o.startLr)
    throw InvalidArgument("LR finder: bad range or step count");
  auto ds = std::make_shared<Dataset>(*source);
  assignSplits(*ds, {cfg.valFraction, ds->splitCount(Split::Test) ? 0.0 : cfg.testFraction,
                     cfg.seed, SplitPolicy::KeepPredefined});
  ds->validate();
  torch::manual_seed(cfg.seed);
  StartingModel start = startingModel(cfg, *ds, [](const std::string&) {});
  ImageClassifier net = start.net;
  net->replaceHead(headSpec(cfg, int64_t(ds->numClasses())));
  net->to(preferredDevice());
  // What the run's first epoch trains, with its rate multipliers (the trainer's own plan).
  const FreezeSpec spec = phaseFreezeSpec(cfg, *net, trainPhases(cfg).front(), 0);
  applyFreezeSpec(*net, spec);
  auto opt = makeOptimizer(cfg, trainableParameterGroups(*net, spec), o.startLr);
  DataLoader loader(ds, ds->indicesOf(Split::Train), trainLoaderOptions(cfg, start.preprocess));
  setTrainingMode(*net, spec);
  LrFinderResult r;
  sweep(*net, *opt, loader, o, r);
  r.suggested = suggestLearningRate(r.lrs, r.smoothed);
  if (r.note.empty()) r.note = "ran the full range";
  r.note += "; suggestion: steepest descent of the smoothed loss";
  return r;
}

}  // namespace tlab::core
