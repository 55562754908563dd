#include "core/train/RunOutputs.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core/version.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/dataset/Dataset.h"
#include "core/dataset/Split.h"
#include "core/model/ImageClassifier.h"
#include "core/train/Calibration.h"
#include "core/train/Metrics.h"
#include "core/train/Precision.h"
#include "core/train/TrainConfig.h"
#include "core/train/Trainer.h"
#include "core/util/Clock.h"
#include "core/util/FileUtil.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/Download.h"

#ifndef TLAB_VERSION_STRING
#define TLAB_VERSION_STRING "unknown"
#endif

namespace tlab::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kThumbnailSide = 96;
constexpr size_t kMistakeTextBytes = 400;

void writeHistory(const fs::path& dir, const TrainResult& r) {
  json history = json::array();
  std::string csv = "epoch,phase,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n";
  for (const auto& e : r.history) {
    history.push_back(toJson(e));
    csv += std::to_string(e.epoch) + "," + e.phase + "," + std::to_string(e.trainLoss) + "," +
           std::to_string(e.trainAccuracy) + "," + std::to_string(e.valLoss) + "," +
           std::to_string(e.valAccuracy) + "," + std::to_string(e.learningRate) + "," +
           std::to_string(e.seconds) + "\n";
  }
  writeFileAtomic(dir / "history.json", history.dump(1));
  writeFileAtomic(dir / "history.csv", csv);
}

json calibrationJson(const TrainResult& r) {
  const auto& c = r.calibration;
  json j{{"temperature", c.temperature},
         {"fit_samples", c.fitSamples},
         {"val_nll_before", c.valNllBefore},
         {"val_nll_after", c.valNllAfter},
         {"fitted_temperature", c.fittedTemperature}};
  if (c.check.folds > 0)  // the fit out of sample: 1 is kept unless the fitted T wins
    j["cross_validated_nll"] = {
        {"folds", c.check.folds}, {"at_1", c.check.nllAtOne}, {"fitted", c.check.nllFitted}};
  if (c.hasTest) {
    j["test_ece_before"] = c.testEceBefore;
    j["test_ece_after"] = c.testEceAfter;
  }
  if (r.test && !r.test->logits.empty()) {  // abstention at the bundle's default threshold
    std::vector<int32_t> labels;
    for (const auto& p : r.test->predictions) labels.push_back(p.label);
    const auto top =
        topPredictions(r.test->logits, int64_t(r.classNames.size()), labels, c.temperature);
    const auto at = coverageAt(top.confidence, top.correct, kDefaultUnsureBelow);
    j["unsure_below"] = kDefaultUnsureBelow;
    j["test_unsure_rate"] = 1.0 - at.coverage;
    j["test_accuracy_when_sure"] = at.accuracy;
  }
  return j;
}

void writeMetrics(const fs::path& dir, const TrainResult& r) {
  json metrics{{"best_epoch", r.bestEpoch},
               {"seconds", r.seconds},
               {"state", runStateName(r.state)},
               {"feature_cache", kFeatureCacheUseNames.name(r.featureCache)}};
  if (r.val) metrics["val"] = metricsJson(*r.val);
  if (r.test) metrics["test"] = metricsJson(*r.test);
  if (r.calibration.fitted) metrics["calibration"] = calibrationJson(r);
  if (r.worldSize > 1) {  // data-parallel: rank 0's own share of the communication
    metrics["world_size"] = r.worldSize;
    metrics["allreduce_seconds"] = r.allReduceSeconds;
    metrics["allreduce_mb_per_step"] = r.steps ? r.allReduceBytes / 1e6 / double(r.steps) : 0;
    metrics["gradient_compression"] = kGradientWireNames.name(r.gradientWire);
  }
  writeFileAtomic(dir / "metrics.json", metrics.dump(1));
}

// The dataset as this run split it (the same seeded, stratified split the session made).
void writeDatasetSummary(const fs::path& dir, const TrainConfig& cfg, const Dataset& source) {
  Dataset ds = source;
  const bool hasTest = ds.splitCount(Split::Test) > 0;
  assignSplits(ds, {cfg.valFraction, hasTest ? 0.0 : cfg.testFraction, cfg.seed,
                    SplitPolicy::KeepPredefined});
  json counts = json::object();
  for (Split s : {Split::Train, Split::Val, Split::Test}) counts[splitName(s)] = ds.classCounts(s);
  writeFileAtomic(dir / "dataset.json",
                  json{{"source", ds.source.string()},
                       {"format", ds.format},
                       {"modality", ds.modality == Modality::Text ? "text" : "image"},
                       {"classes", ds.classNames},
                       {"counts", counts},
                       {"skipped", ds.skipped.size()}}
                      .dump(1));
}

// "AMD EPYC (family 25, model 17)": the name alone does not tell one generation from another.
std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string name, family, model;
  for (std::string line;
       std::getline(in, line) && line.find_first_not_of(" \t") != std::string::npos;) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string value = line.substr(std::min(line.size(), colon + 2));
    if (line.rfind("model name", 0) == 0)
      name = value;
    else if (line.rfind("cpu family", 0) == 0)
      family = value;
    else if (line.rfind("model\t", 0) == 0)
      model = value;
  }
  if (name.empty()) return "unknown";
  return family.empty() ? name : name + " (family " + family + ", model " + model + ")";
}

// As the session resolved it (TrainingSession::finishSetup).
Precision precisionFor(const TrainConfig& cfg, const TrainResult& r, PrecisionUse use) {
  const bool depthwise = !r.preprocess.tokenizer && !r.architecture.empty() &&
                         cfg.strategy != Strategy::LinearProbe &&
                         preferredMemoryFormat(r.architecture) == torch::MemoryFormat::ChannelsLast;
  return choosePrecision(cfg.precision, torch::cuda::is_available(), nativeBf16Feature(), use,
                         depthwise)
      .used;
}

void writeEnvironment(const fs::path& dir, const TrainConfig& cfg, const TrainResult& r) {
  json env{
      {"transferlab", TLAB_VERSION_STRING},
      {"libtorch", TORCH_VERSION},
      {"opencv", CV_VERSION},
      {"cpu", cpuModel()},
      {"threads", at::get_num_threads()},
      {"cuda", torch::cuda::is_available()},
      {"native_bf16", nativeBf16Feature()},
      {"precision_training", kPrecisionNames.name(precisionFor(cfg, r, PrecisionUse::Training))},
      {"precision_inference", kPrecisionNames.name(precisionFor(cfg, r, PrecisionUse::Inference))},
      {"backbone", cfg.backbone},
      {"seed", cfg.seed},
      {"written", utcNow()}};
  if (!cfg.weights.empty()) {
    env["weights"] = cfg.weights;
    try {
      env["weights_sha256"] = sha256File(cfg.weights);
    } catch (const std::exception& e) {
      env["weights_sha256"] = std::string("unreadable: ") + e.what();
    }
  } else {
    try {
      const auto catalog = BackboneCatalog::loadDefault();
      if (const auto* entry = catalog.find(cfg.backbone); entry && entry->weights) {
        env["weights"] = entry->weights->file;
        if (!entry->weights->sha256.empty())
          env["weights_sha256"] = entry->weights->sha256;  // checked when they were loaded
        else if (entry->weights->bundled)  // shipped with the application: hashed here
          env["weights_sha256"] = sha256File(catalog.directory() / entry->weights->file);
      }
    } catch (const std::exception&) {  // no catalog: the environment says less, nothing fails
    }
  }
  writeFileAtomic(dir / "environment.json", env.dump(1));
}

// A text cut at a character boundary (never inside a UTF-8 sequence).
std::string clipText(const std::string& text, size_t maxBytes) {
  if (text.size() <= maxBytes) return text;
  size_t end = maxBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

std::string thumbnailJpeg(const cv::Mat& rgbOrGrey) {
  const double scale =
      double(kThumbnailSide) / double(std::max(rgbOrGrey.cols, std::max(rgbOrGrey.rows, 1)));
  cv::Mat small;
  if (scale < 1)
    cv::resize(rgbOrGrey, small, {}, scale, scale, cv::INTER_AREA);
  else  // tiny images (28x28): enlarged without smoothing, so the pixels stay visible
    cv::resize(rgbOrGrey, small, {}, std::floor(scale), std::floor(scale), cv::INTER_NEAREST);
  if (small.channels() == 3) cv::cvtColor(small, small, cv::COLOR_RGB2BGR);
  std::vector<uchar> bytes;
  cv::imencode(".jpg", small, bytes, {cv::IMWRITE_JPEG_QUALITY, 88});
  return {bytes.begin(), bytes.end()};
}

void writeMistakes(const fs::path& dir, const TrainResult& r, const Dataset& ds) {
  const EvaluationResult* final = r.test ? &*r.test : (r.val ? &*r.val : nullptr);
  json list = json::array();
  const fs::path folder = dir / "mistakes";
  std::error_code ec;
  fs::remove_all(folder, ec);  // a resumed run's older picture is replaced, not mixed
  if (final) {
    std::vector<const PredictionRow*> wrong;
    for (const auto& p : final->predictions)
      if (p.predicted != p.label) wrong.push_back(&p);
    std::stable_sort(wrong.begin(), wrong.end(),
                     [](const auto* a, const auto* b) { return a->probability > b->probability; });
    if (wrong.size() > size_t(kReportedMistakes)) wrong.resize(kReportedMistakes);
    for (size_t k = 0; k < wrong.size(); ++k) {
      const PredictionRow& p = *wrong[k];
      if (p.sample >= ds.size()) continue;
      const Sample& s = ds.samples[p.sample];
      json m{
          {"sample", p.sample},
          {"where", !s.path.empty() ? s.path : ds.source.string() + "#" + std::to_string(s.index)},
          {"true", final->classNames.at(size_t(p.label))},
          {"predicted", final->classNames.at(size_t(p.predicted))},
          {"probability", p.probability},
          {"true_probability", p.trueProbability}};
      if (ds.modality == Modality::Text) {
        m["text"] = clipText(s.text, kMistakeTextBytes);
      } else if (const DecodedImage img = ds.loadImage(p.sample); img.ok()) {
        char name[32];
        std::snprintf(name, sizeof name, "%02zu.jpg", k + 1);
        fs::create_directories(folder);
        writeFileAtomic(folder / name, thumbnailJpeg(img.pixels));
        m["thumbnail"] = name;
      }
      list.push_back(std::move(m));
    }
  }
  writeFileAtomic(
      dir / "mistakes.json",
      json{{"split", r.test ? "test" : (r.val ? "val" : "")}, {"mistakes", list}}.dump(1));
}

}  // namespace

void writeRunOutputs(const fs::path& dir, const TrainConfig& config, const TrainResult& r,
                     const Dataset& ds) {
  fs::create_directories(dir);
  writeFileAtomic(dir / "config.json", toJson(config).dump(2));
  writeHistory(dir, r);
  writeMetrics(dir, r);
  const EvaluationResult* final = r.test ? &*r.test : (r.val ? &*r.val : nullptr);
  if (final) {
    writeFileAtomic(dir / "confusion_matrix.csv", confusionCsv(*final));
    writeFileAtomic(dir / "predictions.csv", predictionsCsv(*final, ds));
  }
  writeDatasetSummary(dir, config, ds);
  writeEnvironment(dir, config, r);
  writeMistakes(dir, r, ds);
}

}  // namespace tlab::core
