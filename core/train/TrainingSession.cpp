#include "core/train/TrainingSession.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/Errors.h"
#include "core/data/DataLoader.h"
#include "core/dataset/Split.h"
#include "core/model/ScriptBackbone.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/CachedFeatures.h"
#include "core/train/Calibration.h"
#include "core/train/Checkpoint.h"
#include "core/train/DataParallel.h"
#include "core/train/Evaluate.h"
#include "core/train/FeatureCache.h"
#include "core/train/LrSchedule.h"
#include "core/train/ModelInput.h"
#include "core/train/Optimizer.h"
#include "core/train/StartingModel.h"
#include "core/train/TrainPlan.h"
#include "core/util/Random.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

using Phase = TrainPhase;

class Session {
 public:
  Session(const TrainConfig& c, std::shared_ptr<const Dataset> d, const fs::path& runDir,
          TrainerControl& control, TrainerObserver* obs, const DistributedSpec& dist)
      : cfg_(c), runDir_(runDir), control_(control), obs_(obs), dist_(dist) {
    auto ds = std::make_shared<Dataset>(*d);
    const bool hasTest = ds->splitCount(Split::Test) > 0;
    assignSplits(*ds, {cfg_.valFraction, hasTest ? 0.0 : cfg_.testFraction, cfg_.seed,
                       SplitPolicy::KeepPredefined});
    ds->validate();
    dataset_ = ds;
    train_ = ds->indicesOf(Split::Train);
    val_ = ds->indicesOf(Split::Val);
    test_ = ds->indicesOf(Split::Test);
    if (train_.empty()) throw InvalidArgument(ds->source.string() + ": no training samples");
  }

  SessionOutput run(bool resume) {
    const auto t0 = Clock::now();
    joinRanks();
    setup();
    int startEpoch = 0;
    std::optional<fs::path> ckpt;
    if (resume && !runDir_.empty()) ckpt = latestCheckpoint(runDir_);
    if (resume && !ckpt) log("no checkpoint in " + runDir_.string() + "; starting from scratch");
    CheckpointState restored;
    if (ckpt) {
      restored = readCheckpointState(*ckpt);
      startEpoch = restored.epoch;
      // From the epoch, not the checkpoint's step count: a run may resume with another number
      // of ranks, and so another number of steps per epoch.
      step_ = int64_t(startEpoch) * stepsPerEpoch_;
      bestEpoch_ = restored.bestEpoch;
      bestMetric_ = restored.bestMetric;
      badEpochs_ = restored.epochsWithoutImprovement;
      lrOverride_ = restored.learningRateOverride;
      for (const auto& r : restored.extraFreezeRules)
        extraRules_.push_back({r.at("pattern").get<std::string>(), r.at("frozen").get<bool>()});
      for (const auto& h : restored.history)
        out_.result.history.push_back(epochMetricsFromJson(h, (*ckpt / "state.json").string()));
      out_.result.resumedFromEpoch = startEpoch;
      log("resuming after epoch " + std::to_string(startEpoch) + " from " + ckpt->string());
    }
    dp_->requireSame(startEpoch,
                     "resumes after another epoch than rank 0: every rank needs the same run "
                     "folder (a shared file system or a copy of rank 0's)");
    dp_->requireSame(datasetFingerprint(),
                     "sees a different dataset than rank 0 (samples, labels or split differ): "
                     "give every rank the same copy");
    emit(RunState::Started, ckpt ? "resumed after epoch " + std::to_string(startEpoch) : "");
    bool stopped = false;
    for (const Phase& phase : phases()) {
      if (phase.firstEpoch + phase.epochs <= startEpoch) continue;
      currentPhase_ = phase;
      const int first = std::max(phase.firstEpoch, startEpoch);
      buildOptimizer(specAt(first));
      if (ckpt && first == startEpoch) {
        loadCheckpointTensors(*ckpt, *net_, *optimizer_, &best_, device_);
        ckpt.reset();
      }
      useCache_ = phaseUsesFeatureCache(cfg_, phase);
      if (useCache_) prepareCache();
      for (int e = first; e < phase.firstEpoch + phase.epochs; ++e) {
        if (!runEpoch(e)) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
    }
    if (ckpt) {
      // Every epoch was done before the interruption (killed between the last checkpoint and
      // the export): the checkpoint holds the final weights and the best ones; load them, or
      // the run would finish with the freshly initialised network.
      const Phase last = phases().back();
      currentPhase_ = last;
      buildOptimizer(specAt(last.firstEpoch + last.epochs - 1));
      loadCheckpointTensors(*ckpt, *net_, *optimizer_, &best_, device_);
      ckpt.reset();
    }
    finish(t0);
    return std::move(out_);
  }

 private:
  void log(const std::string& s) {
    if (obs_) obs_->onLog(s);
  }
  // Progress of a task that is not optimisation steps, for InferenceOptions::progress: reported
  // at once, then at most every 0.2 s, and at the end.
  std::function<void(size_t, size_t)> taskReporter(const std::string& task, size_t total) {
    if (!obs_) return {};
    obs_->onTask({task, 0, int64_t(total), 0});
    const auto t0 = Clock::now();
    auto last = std::make_shared<Clock::time_point>(t0);
    return [this, task, t0, last](size_t done, size_t all) {
      const auto now = Clock::now();
      if (done < all && now - *last < std::chrono::milliseconds(200)) return;
      *last = now;
      obs_->onTask(
          {task, int64_t(done), int64_t(all), std::chrono::duration<double>(now - t0).count()});
    };
  }
  void emit(RunState st, const std::string& msg) {
    if (obs_) obs_->onStatus({st, msg});
  }

  // Data-parallel runs: meet the other ranks first (a bad address fails before any work).
  void joinRanks() {
    if (!dist_.enabled()) return;
    log("rank " + std::to_string(dist_.rank) + " of " + std::to_string(dist_.worldSize) +
        ": joining the group (" +
        (dist_.storeFile.empty() ? dist_.masterAddr + ":" + std::to_string(dist_.masterPort)
                                 : std::string("local")) +
        ")");
    dp_ = std::make_unique<DataParallel>(dist_);
    log("all " + std::to_string(dist_.worldSize) + " ranks joined");
    if (dist_.gradientWire != GradientWire::Fp32)
      log(std::string("gradients travel as ") + kGradientWireNames.name(dist_.gradientWire) +
          " in the all-reduce (half the bytes; the optimizer still gets fp32)");
    if (dataset_->modality == Modality::Text)
      log("texts are not grouped by length in a data-parallel run");
  }

  // A fingerprint of what this rank trains on: classes, splits and labels.
  int64_t datasetFingerprint() const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    auto mix = [&h](uint64_t v) {
      for (int b = 0; b < 8; ++b) h = (h ^ ((v >> (8 * b)) & 0xFF)) * 1099511628211ull;
    };
    mix(dataset_->numClasses());
    for (const auto* split : {&train_, &val_, &test_}) {
      mix(split->size());
      for (size_t i : *split) mix(uint64_t(dataset_->samples[i].label) * 2654435761u + i);
    }
    return int64_t(h);
  }

  // Data-parallel progress counts this rank's share of a split.
  std::string shareNote() const {
    return dp_->enabled() ? ", rank " + std::to_string(dp_->rank()) + "'s share" : "";
  }

  void setup() {
    torch::manual_seed(cfg_.seed);
    if (cfg_.deterministic) at::globalContext().setDeterministicAlgorithms(true, true);
    StartingModel m = startingModel(cfg_, *dataset_, [this](const std::string& s) { log(s); });
    net_ = m.net;
    preprocess_ = m.preprocess;
    weightsPath_ = m.weightsPath;
    if (dataset_->modality == Modality::Text) logTruncation();
    finishSetup(m.architecture);
    dp_->broadcastModel(*net_);  // rank 0's initial head (and weights) everywhere
  }

  // Long texts are cut to the maximum length: say how many, once, before training.
  void logTruncation() {
    size_t truncated = 0, longest = 0;
    for (const Sample& s : dataset_->samples) {
      const auto t = preprocess_.tokenizer->encode(s.text, size_t(preprocess_.inputSize));
      truncated += t.truncated ? 1 : 0;
      longest = std::max(longest, t.pieces + 2);
    }
    out_.result.truncatedTexts = truncated;
    log(std::to_string(truncated) + " of " + std::to_string(dataset_->size()) +
        " texts are longer than " + std::to_string(preprocess_.inputSize) +
        " tokens and are truncated (longest: " + std::to_string(longest) + " tokens)");
  }

  void finishSetup(const std::string& architecture) {
    net_->replaceHead(headSpec(cfg_, int64_t(dataset_->numClasses())));
    device_ = preferredDevice();
    if (device_.is_cuda() && dist_.enabled())  // one GPU per rank of this machine
      device_ = torch::Device(
          torch::kCUDA,
          int8_t(dist_.localRank % std::max<int64_t>(1, torch::cuda::device_count())));
    net_->to(device_);
    // Training and inference (feature extraction, evaluation) may differ under `auto`: the
    // depthwise networks train faster in fp32 and infer faster in bf16.
    // A linear probe's backbone only runs forward (frozen): bf16 wins there, as in inference.
    const bool depthwise = !preprocess_.tokenizer && cfg_.strategy != Strategy::LinearProbe &&
                           preferredMemoryFormat(architecture) == torch::MemoryFormat::ChannelsLast;
    const std::string native = nativeBf16Feature();
    const PrecisionChoice precision = choosePrecision(cfg_.precision, device_.is_cuda(), native,
                                                      PrecisionUse::Training, depthwise);
    const PrecisionChoice inference = choosePrecision(cfg_.precision, device_.is_cuda(), native,
                                                      PrecisionUse::Inference, depthwise);
    precision_ = precision.used;
    inferencePrecision_ = inference.used;
    // bf16 kernels of oneDNN want channels_last for every convolutional network (PyTorch on a
    // Zen 4: ResNet-18 training 50.9 img/s in bf16, 65.4 with channels_last); in fp32 it pays
    // only for the depthwise ones. Text models take token ids (rank 2): no such layout.
    const bool bf16 = precision_ == Precision::Bf16 || inferencePrecision_ == Precision::Bf16;
    memoryFormat_ = preprocess_.tokenizer ? torch::MemoryFormat::Contiguous
                    : bf16                ? torch::MemoryFormat::ChannelsLast
                                          : preferredMemoryFormat(architecture);
    setMemoryFormat(*net_, memoryFormat_);
    log(std::string("computing on ") + (device_.is_cuda() ? "CUDA" : "the CPU") +
        (memoryFormat_ == torch::MemoryFormat::ChannelsLast ? " (channels_last)" : ""));
    log(precision.reason);
    if (inference.used != precision.used) log(inference.reason);
    out_.result.classNames = dataset_->classNames;
    out_.result.preprocess = preprocess_;
    out_.result.architecture = architecture;
    if (cfg_.classWeighted) {
      const auto counts = dataset_->classCounts(Split::Train);
      std::vector<float> w;
      for (auto n : counts) w.push_back(n ? float(train_.size()) / float(counts.size() * n) : 0.f);
      classWeights_ = torch::tensor(w).to(device_);
    }
    const size_t perRank = dp_->trainingShare(train_).size();  // every rank: the same count
    stepsPerEpoch_ = int64_t((perRank + size_t(cfg_.batchSize) - 1) / size_t(cfg_.batchSize));
  }

  std::vector<Phase> phases() const { return trainPhases(cfg_); }

  FreezeSpec specAt(int epoch) const {
    FreezeSpec s = phaseFreezeSpec(cfg_, *net_, currentPhase_, epoch);
    // Queued commands (GUI freeze edits mid-run) come after the plan's rules.
    s.rules.insert(s.rules.end(), extraRules_.begin(), extraRules_.end());
    return s;
  }

  void buildOptimizer(const FreezeSpec& spec) {
    spec_ = spec;
    applyFreezeSpec(*net_, spec);
    const auto groups = trainableParameterGroups(*net_, spec);
    multipliers_.clear();
    for (const auto& g : groups) multipliers_.push_back(g.lrMultiplier);
    optimizer_ = makeOptimizer(cfg_, groups, currentPhase_.lr);
  }

  double learningRate(int64_t stepInPhase) const {
    ScheduleSpec s;
    s.kind = cfg_.schedule;
    s.baseLr = lrOverride_ > 0 ? lrOverride_ : currentPhase_.lr;
    s.totalSteps = int64_t(currentPhase_.epochs) * stepsPerEpoch_;
    s.warmupSteps = int64_t(std::llround(cfg_.warmupEpochs * double(stepsPerEpoch_)));
    s.stepSize = int64_t(std::max(1, cfg_.stepEpochs)) * stepsPerEpoch_;
    s.gamma = cfg_.stepGamma;
    return learningRateAt(s, stepInPhase);
  }

  // Pause, cancel and queued edits, between steps. False when the run must stop. In a
  // data-parallel run every rank stops at the same step when any is cancelled; pause and live
  // edits are not offered there (the other ranks would wait on this one).
  bool checkControl() {
    if (dp_->enabled()) {
      if (dp_->everyoneGoesOn(!control_.cancel.load())) return true;
      control_.cancel = true;  // another rank stopped: end here as cancelled, like it
      return false;
    }
    if (control_.pause.load() && !control_.cancel.load()) {
      emit(RunState::Paused, "");
      std::unique_lock<std::mutex> lock(control_.mutex);
      control_.wake.wait(lock, [&] { return !control_.pause.load() || control_.cancel.load(); });
      lock.unlock();
      if (!control_.cancel.load()) emit(RunState::Resumed, "");
    }
    if (control_.cancel.load()) return false;
    std::vector<TrainerControl::Command> commands;
    {
      std::lock_guard<std::mutex> lock(control_.mutex);
      commands.swap(control_.commands);
    }
    for (const auto& c : commands) {
      if (c.kind == TrainerControl::Command::Kind::SetLearningRate) {
        lrOverride_ = c.value;
        log("learning rate set to " + std::to_string(c.value));
      } else {
        extraRules_.push_back({c.path, c.frozen});
        buildOptimizer(specAt(epoch_));
        if (useCache_ && !c.frozen) {
          useCache_ = false;  // part of the backbone trains now: cached features no longer apply
          log("'" + c.path + "' unfrozen: training from images from now on");
        }
        log(std::string(c.frozen ? "froze " : "unfroze ") + c.path + " (optimiser rebuilt)");
      }
    }
    return true;
  }

  torch::Tensor lossOf(const torch::Tensor& logits, const torch::Tensor& y) const {
    auto o = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(cfg_.labelSmoothing);
    if (classWeights_.defined()) o.weight(classWeights_);
    return torch::nn::functional::cross_entropy(logits.to(torch::kFloat), y, o);  // fp32 loss
  }

  void prepareCache() {
    FeatureCache cache(featureCacheDirectory());
    const std::string digest = weightsDigest(weightsPath_);
    bool allHit = true;
    auto get = [&](const std::vector<size_t>& idx, CachedFeatures& out, const char* split) {
      if (idx.empty()) return;
      // bf16 features are not fp32 features: their own cache entries (fp32 keys unchanged).
      const std::string key = featureCacheKey(
          *dataset_, idx, cfg_.backbone + (inferencePrecision_ == Precision::Bf16 ? "@bf16" : ""),
          digest, preprocess_);
      std::string note;
      auto hit = cache.load(key, idx, &note);
      if (dp_->everyoneGoesOn(hit.has_value())) {  // every rank has them: none extracts
        out = std::move(*hit);
        return;
      }
      if (!note.empty()) log(note);
      allHit = false;
      // Each rank extracts its share; the shares are gathered in the split's order.
      const std::vector<size_t> share = dp_->inferenceShare(idx);
      InferenceOptions io;
      io.workers = cfg_.workers;
      io.precision = inferencePrecision_;
      if (!dp_->enabled()) io.cancel = &control_.cancel;  // ranks must not stop at different points
      io.progress =
          taskReporter(std::string("extracting features (") + split + " split" + shareNote() + ")",
                       share.size());
      out.features = extractFeatures(*net_, dataset_, share, preprocess_, out.samples, io);
      out.features = dp_->gatherRows(out.features, out.samples, idx);
      if (!control_.cancel.load() && dp_->writes()) {
        try {  // the cache only saves time: a full disk must not fail the run
          cache.store(key, out);
        } catch (const Error& e) {
          log(std::string("feature cache not written: ") + e.what());
        }
      }
    };
    const auto t0 = Clock::now();
    get(train_, trainFeat_, "train");
    get(val_, valFeat_, "val");
    get(test_, testFeat_, "test");
    out_.result.featureCache = allHit ? FeatureCacheUse::Hit : FeatureCacheUse::Miss;
    log(std::string("feature cache ") + (allHit ? "hit" : "miss (computed)") + " in " +
        std::to_string(std::chrono::duration<double>(Clock::now() - t0).count()) + " s");
  }

  EvaluationResult evalCached(const CachedFeatures& f) {
    torch::NoGradGuard g;
    net_->eval();
    const auto logits = net_->classify(f.features.to(device_));
    return metricsFromLogits(logits, f.samples, *dataset_);
  }

  // Data-parallel: each rank evaluates its share and every rank gets all logits, so each
  // counts every sample once and all take the same early-stopping and best-epoch decisions.
  EvaluationResult evaluate(const std::vector<size_t>& idx, const CachedFeatures& cached,
                            const char* split) {
    if (useCache_) return evalCached(cached);
    const std::vector<size_t> share = dp_->inferenceShare(idx);
    InferenceOptions io;
    io.workers = cfg_.workers;
    io.precision = inferencePrecision_;
    io.progress =
        taskReporter(std::string("evaluating the ") + split + " split" + shareNote(), share.size());
    std::vector<size_t> kept;
    auto logits = modelLogits(*net_, dataset_, share, preprocess_, kept, io);
    logits = dp_->gatherRows(logits, kept, idx);
    return metricsFromLogits(logits, kept, *dataset_);
  }

  // Running sums of one epoch's training steps.
  struct EpochTally {
    Clock::time_point start = Clock::now();
    double lossSum = 0;
    int64_t correct = 0, seen = 0;
  };

  // One epoch; false when cancelled or stopped early.
  bool runEpoch(int epoch) {
    epoch_ = epoch;
    beginEpoch(epoch);
    EpochTally tally;
    const bool completed =
        useCache_ ? trainOnCachedFeatures(epoch, tally) : trainOnImages(epoch, tally);
    if (!completed) return false;
    return endEpoch(epoch, tally);
  }

  // Gradual unfreezing opens the next stage; seeds and train/eval modes for the epoch.
  void beginEpoch(int epoch) {
    if (cfg_.gradualUnfreezeEvery > 0 && epoch > currentPhase_.firstEpoch) {
      const FreezeSpec next = specAt(epoch);
      if (next.rules.size() != spec_.rules.size()) buildOptimizer(next);  // one more stage opened
    }
    // Dropout depends on the epoch (and the rank: each rank's samples get their own masks).
    torch::manual_seed(mixSeed(cfg_.seed, uint64_t(epoch), 0xD20 + uint64_t(dp_->rank())));
    setTrainingMode(*net_, spec_);
    if (useCache_) net_->eval();  // frozen backbone unused; the head's dropout is set below
  }

  // One optimisation step on a batch (images or cached features), reported to the observer.
  void trainStep(int epoch, const torch::Tensor& cpuX, const torch::Tensor& cpuY, bool features,
                 EpochTally& tally) {
    const auto x = features ? cpuX.to(device_) : cpuX.to(device_).contiguous(memoryFormat_);
    const auto y = cpuY.to(device_);
    const int64_t inPhase = step_ - int64_t(currentPhase_.firstEpoch) * stepsPerEpoch_;
    const double lr = learningRate(inPhase);
    for (size_t g = 0; g < optimizer_->param_groups().size(); ++g) {
      optimizer_->param_groups()[g].options().set_lr(lr * multipliers_[g]);
    }
    dp_->zeroGradients(*optimizer_);
    if (!features) dp_->broadcastBuffers(*net_);  // BatchNorm statistics of rank 0, as DDP
    torch::Tensor logits;
    {
      AutocastScope autocast(precision_, device_.is_cuda());  // backward runs outside, as usual
      logits = features ? net_->classify(x) : net_->forward(x);
    }
    const auto loss = lossOf(logits, y);
    loss.backward();
    dp_->averageGradients(*optimizer_);
    if (cfg_.gradClipNorm > 0) {
      std::vector<torch::Tensor> params;
      for (auto& g : optimizer_->param_groups())
        params.insert(params.end(), g.params().begin(), g.params().end());
      torch::nn::utils::clip_grad_norm_(params, cfg_.gradClipNorm);
    }
    optimizer_->step();
    ++step_;
    const int64_t n = x.size(0);
    const double l = loss.item<double>();
    const int64_t c = logits.argmax(1).eq(y).sum().item<int64_t>();
    tally.lossSum += l * double(n);
    tally.correct += c;
    tally.seen += n;
    if (!obs_) return;
    BatchMetrics b;
    b.epoch = epoch + 1;
    b.step = step_;
    b.stepInEpoch = step_ - int64_t(epoch) * stepsPerEpoch_;
    b.stepsPerEpoch = stepsPerEpoch_;
    b.loss = l;
    b.accuracy = double(c) / double(n);
    b.learningRate = lr;
    const double s = std::chrono::duration<double>(Clock::now() - tally.start).count();
    b.imagesPerSecond = s > 0 ? double(tally.seen) * dp_->worldSize() / s : 0;  // all ranks
    obs_->onBatch(b);
  }

  // The head alone on the cached features, in a seeded order; false when cancelled.
  bool trainOnCachedFeatures(int epoch, EpochTally& tally) {
    net_->named_children()[net_->headName()]->train();  // only the head runs: its dropout on
    std::vector<size_t> order(trainFeat_.samples.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    Rng rng(mixSeed(cfg_.seed, uint64_t(epoch), 0x5EED));
    shuffleInPlace(order, rng);
    order = dp_->trainingShare(order);
    const auto labels = labelsOf(trainFeat_.samples);
    for (size_t b = 0; b < order.size(); b += size_t(cfg_.batchSize)) {
      if (!checkControl()) return false;
      if (!useCache_) break;  // an unfreeze command switched to images mid-epoch
      const size_t e = std::min(order.size(), b + size_t(cfg_.batchSize));
      const auto idx = torch::from_blob(order.data() + b, {int64_t(e - b)}, torch::kLong).clone();
      trainStep(epoch, trainFeat_.features.index_select(0, idx), labels.index_select(0, idx), true,
                tally);
    }
    return true;
  }

  // The network on (augmented) images from the loader; false when cancelled.
  bool trainOnImages(int epoch, EpochTally& tally) {
    LoaderOptions lo = trainLoaderOptions(cfg_, preprocess_);
    std::vector<size_t> samples = train_;
    if (dp_->enabled()) {
      // The loader's own seeded shuffle, done here so that each rank takes its share of it.
      Rng rng(mixSeed(lo.seed, uint64_t(epoch), 0x5EED));
      shuffleInPlace(samples, rng);
      samples = dp_->trainingShare(samples);
      lo.shuffle = false;
      lo.groupByLength = false;
    }
    DataLoader loader(dataset_, samples, lo);
    loader.startEpoch(uint64_t(epoch));
    while (auto b = loader.next()) {
      if (!checkControl()) {
        loader.cancel();
        return false;
      }
      trainStep(epoch, inputTensor(*b), labelsTensor(*b), false, tally);
    }
    for (const auto& s : loader.takeSkipped()) log("skipped " + s.path + ": " + s.reason);
    return true;
  }

  // Validation, the best weights so far, the epoch's record, a checkpoint and early stopping;
  // false when training stops early.
  bool endEpoch(int epoch, const EpochTally& tally) {
    EpochTally all = tally;
    dp_->sum(all.lossSum, all.correct, all.seen);  // the whole epoch, every rank's share
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.epochs = cfg_.epochs;
    m.phase = currentPhase_.name;
    m.trainLoss = all.seen ? all.lossSum / double(all.seen) : 0;
    m.trainAccuracy = all.seen ? double(all.correct) / double(all.seen) : 0;
    m.learningRate = learningRate(step_ - 1 - int64_t(currentPhase_.firstEpoch) * stepsPerEpoch_);
    if (!val_.empty()) validate(m);
    m.seconds = std::chrono::duration<double>(Clock::now() - tally.start).count();
    out_.result.history.push_back(m);
    if (obs_) obs_->onEpoch(m);
    if (!runDir_.empty() && dp_->writes() && cfg_.checkpointEvery > 0 &&
        m.epoch % cfg_.checkpointEvery == 0)
      checkpoint(m.epoch);
    if (cfg_.earlyStoppingPatience > 0 && badEpochs_ >= cfg_.earlyStoppingPatience) {
      log("early stopping: no improvement for " + std::to_string(badEpochs_) +
          " epochs (best epoch " + std::to_string(bestEpoch_) + ")");
      earlyStopped_ = true;
      return false;
    }
    return true;
  }

  // Evaluates the validation split into `m` and keeps the best weights.
  void validate(EpochMetrics& m) {
    const EvaluationResult v = evaluate(val_, valFeat_, "val");
    m.valLoss = v.loss;
    m.valAccuracy = v.accuracy;
    const double metric =
        cfg_.earlyStoppingMetric == EarlyStopMetric::ValLoss ? -v.loss : v.accuracy;
    if (bestEpoch_ == 0 || metric > bestMetric_) {
      bestMetric_ = metric;
      bestEpoch_ = m.epoch;
      badEpochs_ = 0;
      m.improved = true;
      best_.clear();
      for (const auto& [k, t] : stateDictOf(*net_)) best_.emplace_back(k, t.clone());
    } else {
      ++badEpochs_;
    }
  }

  torch::Tensor labelsOf(const std::vector<size_t>& samples) const {
    std::vector<int64_t> y;
    for (size_t s : samples) y.push_back(dataset_->samples[s].label);
    return torch::tensor(y, torch::kLong);
  }

  void checkpoint(int epoch) {
    CheckpointState s;
    s.epoch = epoch;
    s.step = step_;
    s.bestEpoch = bestEpoch_;
    s.bestMetric = bestMetric_;
    s.epochsWithoutImprovement = badEpochs_;
    for (const auto& h : out_.result.history) s.history.push_back(toJson(h));
    for (const auto& r : extraRules_)
      s.extraFreezeRules.push_back({{"pattern", r.pattern}, {"frozen", r.frozen}});
    s.learningRateOverride = lrOverride_;
    s.config = toJson(cfg_);
    saveCheckpoint(runDir_, s, *net_, *optimizer_, best_.empty() ? nullptr : &best_);
  }

  // Temperature scaling on the validation split's logits; the test split's ECE before and
  // after says whether it helped. Without a validation split the temperature stays 1.
  void calibrate() {
    auto& c = out_.result.calibration;
    const auto labelsOfRows = [&](const EvaluationResult& r) {
      std::vector<int32_t> y;
      for (const auto& p : r.predictions) y.push_back(p.label);
      return y;
    };
    const auto classes = int64_t(dataset_->numClasses());
    const auto& v = out_.result.val;
    if (!v || v->logits.empty() || v->predictions.size() < 2) return;
    const auto yv = labelsOfRows(*v);
    c.fittedTemperature = fitTemperature(v->logits, classes, yv);
    c.check = crossValidateTemperature(v->logits, classes, yv);
    c.temperature = c.check.helps() ? c.fittedTemperature : 1.0;
    c.fitted = true;
    c.fitSamples = int64_t(yv.size());
    c.valNllBefore = meanNll(v->logits, classes, yv);
    c.valNllAfter = meanNll(v->logits, classes, yv, c.temperature);
    std::string line = "calibration: temperature " + std::to_string(c.temperature) +
                       " (validation NLL " + std::to_string(c.valNllBefore) + " -> " +
                       std::to_string(c.valNllAfter) + ")";
    if (!c.check.helps())
      line += "; kept 1: the fitted " + std::to_string(c.fittedTemperature) +
              " did not lower the cross-validated NLL (" + std::to_string(c.check.nllAtOne) +
              " at 1, " + std::to_string(c.check.nllFitted) + " fitted)";
    if (const auto& t = out_.result.test; t && !t->logits.empty()) {
      const auto yt = labelsOfRows(*t);
      const auto before = topPredictions(t->logits, classes, yt);
      const auto after = topPredictions(t->logits, classes, yt, c.temperature);
      c.hasTest = true;
      c.testEceBefore = reliability(before.confidence, before.correct).ece;
      c.testEceAfter = reliability(after.confidence, after.correct).ece;
      line +=
          "; test ECE " + std::to_string(c.testEceBefore) + " -> " + std::to_string(c.testEceAfter);
    }
    log(line);
  }

  // Class means of the training split's features and the distance 95% of the validation split
  // stays within: what makes an input "unlike the training data" at prediction time. A frozen
  // backbone's cached features serve; otherwise one inference pass over train (and val).
  void fitOod() {
    if (train_.empty()) return;
    const auto featuresOf = [&](const std::vector<size_t>& idx, const CachedFeatures& cached,
                                const char* split, std::vector<size_t>& kept) {
      if (useCache_ && cached.features.defined()) {
        kept = cached.samples;
        return cached.features;
      }
      InferenceOptions io;
      io.workers = cfg_.workers;
      io.precision = inferencePrecision_;
      io.progress = taskReporter(std::string("features for the unsure check (") + split + " split)",
                                 idx.size());
      return extractFeatures(*net_, dataset_, idx, preprocess_, kept, io);
    };
    try {
      std::vector<size_t> trainKept, valKept;
      const auto tf = featuresOf(train_, trainFeat_, "train", trainKept)
                          .to(torch::kCPU, torch::kFloat)
                          .contiguous();
      torch::Tensor vf;
      if (!val_.empty())
        vf = featuresOf(val_, valFeat_, "val", valKept).to(torch::kCPU, torch::kFloat).contiguous();
      std::vector<int32_t> labels;
      for (size_t s : trainKept) labels.push_back(dataset_->samples[s].label);
      const auto flat = [](const torch::Tensor& t) {
        return t.defined()
                   ? std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel())
                   : std::vector<float>();
      };
      auto& ood = out_.result.calibration.ood;
      ood =
          fitOodReference(flat(tf), labels, flat(vf), tf.size(1), int64_t(dataset_->numClasses()));
      log("unsure check: " + std::to_string(ood.classMeans.size()) +
          " class means, distance threshold " + std::to_string(ood.threshold));
    } catch (const std::exception& e) {  // the run is still good without it
      log(std::string("no unsure check for unusual inputs: ") + e.what());
    }
  }

  void finish(Clock::time_point t0) {
    const bool cancelled = control_.cancel.load() && !earlyStopped_;
    if (cfg_.restoreBest && !best_.empty() && !cancelled) {
      loadStateDict(*net_, best_);
      log("restored the weights of epoch " + std::to_string(bestEpoch_) + " (best validation)");
    }
    out_.result.bestEpoch = bestEpoch_;
    if (!cancelled) {
      if (!val_.empty()) out_.result.val = evaluate(val_, valFeat_, "val");
      if (!test_.empty()) out_.result.test = evaluate(test_, testFeat_, "test");
      calibrate();
      if (dp_->writes()) fitOod();
    }
    net_->eval();
    out_.result.state = cancelled ? RunState::Cancelled : RunState::Finished;
    out_.result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    out_.result.worldSize = dp_->worldSize();
    out_.result.steps = step_;
    out_.result.allReduceSeconds = dp_->allReduceSeconds();
    out_.result.allReduceBytes = dp_->allReduceBytes();
    out_.result.gradientWire = dist_.gradientWire;
    out_.model = net_;
  }

  TrainConfig cfg_;
  fs::path runDir_;
  TrainerControl& control_;
  TrainerObserver* obs_;
  DistributedSpec dist_;
  std::unique_ptr<DataParallel> dp_ = std::make_unique<DataParallel>(DistributedSpec{});
  std::shared_ptr<const Dataset> dataset_;
  std::vector<size_t> train_, val_, test_;
  ImageClassifier net_;
  fs::path weightsPath_;
  Preprocess preprocess_;
  torch::Tensor classWeights_;
  torch::Device device_ = torch::kCPU;
  torch::MemoryFormat memoryFormat_ = torch::MemoryFormat::Contiguous;
  Precision precision_ = Precision::Fp32;           // training steps: resolved from cfg_.precision
  Precision inferencePrecision_ = Precision::Fp32;  // feature extraction and evaluation
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<double> multipliers_;
  FreezeSpec spec_;
  std::vector<FreezeRule> extraRules_;
  Phase currentPhase_;
  bool useCache_ = false;
  CachedFeatures trainFeat_, valFeat_, testFeat_;
  int64_t stepsPerEpoch_ = 1, step_ = 0;
  int epoch_ = 0;
  double lrOverride_ = 0;
  int bestEpoch_ = 0, badEpochs_ = 0;
  double bestMetric_ = 0;
  bool earlyStopped_ = false;
  StateDict best_;
  SessionOutput out_;
};

}  // namespace

SessionOutput runTrainingSession(const TrainConfig& config, std::shared_ptr<const Dataset> dataset,
                                 const fs::path& runDir, bool resume, TrainerControl& control,
                                 TrainerObserver* observer, const DistributedSpec& distributed) {
  Session s(config, std::move(dataset), runDir, control, observer, distributed);
  return s.run(resume);
}

}  // namespace tlab::core
