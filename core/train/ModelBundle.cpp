#include "core/train/ModelBundle.h"

#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/dataset/Dataset.h"
#include "core/model/BertEncoder.h"
#include "core/model/ScriptBackbone.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"
#include "core/weights/StateDict.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json calibrationJson(const ModelBundleInfo& i) {
  json j{{"temperature", i.temperature},
         {"unsure_below", i.unsureBelow},
         {"probability", "softmax(logits / temperature)"}};
  if (!i.ood.empty())
    j["ood"] = {{"class_means", i.ood.classMeans},
                {"threshold", i.ood.threshold},
                {"distance",
                 "1 - cosine similarity of the penultimate features to the nearest "
                 "class mean; above threshold: unlike the training data"}};
  return j;
}

json headJson(const HeadSpec& h, const std::string& module) {
  return {{"kind", kHeadKindNames.name(h.kind)},
          {"num_classes", h.numClasses},
          {"hidden", h.hidden},
          {"dropout", h.dropout},
          {"module", module}};
}

// Image bundles: input size, channels, normalisation. Text bundles: the tokenizer.
void readPreprocess(const json& j, const fs::path& dir, Preprocess& out) {
  if (j.value("modality", "image") == "text") {
    const auto& t = j.at("tokenizer");
    const auto vocab = t.at("vocab").get<std::string>();
    if (vocab.find('/') != std::string::npos || vocab.find("..") != std::string::npos)
      throw FormatError((dir / "model.json").string(), "tokenizer.vocab must be a plain file name");
    WordPieceTokenizer::Options o;
    o.lowerCase = t.at("lower_case").get<bool>();
    out.inputSize =
        jsonIntegerAs<int>(t.at("max_tokens"), (dir / "model.json").string(), "max_tokens");
    out.channels = 1;
    out.tokenizer = WordPieceTokenizer::load(dir / vocab, o);
    return;
  }
  const auto& p = j.at("preprocess");
  const std::string meta = (dir / "model.json").string();
  out.inputSize = jsonIntegerAs<int>(p.at("input_size"), meta, "input_size");
  out.channels = jsonIntegerAs<int>(p.at("channels"), meta, "channels");
  const auto mean = p.at("mean").get<std::vector<float>>(),
             sd = p.at("std").get<std::vector<float>>();
  if (mean.empty() || sd.empty() || mean.size() > 3 || sd.size() > 3)
    throw FormatError((dir / "model.json").string(), "preprocess.mean/std need 1 to 3 values");
  for (int c = 0; c < 3; ++c) {
    out.mean[c] = mean.at(std::min<size_t>(c, mean.size() - 1));
    out.std[c] = sd.at(std::min<size_t>(c, sd.size() - 1));
  }
  out.cropFraction = p.at("crop_fraction").get<double>();
}

}  // namespace

void exportModelBundle(const fs::path& dir, const ImageClassifierImpl& net,
                       const ModelBundleInfo& i) {
  fs::create_directories(dir);
  writeSafetensors(dir / "model.safetensors", stateDictOf(net),
                   {{"format", "transferlab-bundle-v1"}});
  if (const auto* s = dynamic_cast<const ScriptBackboneImpl*>(&net)) {
    // TorchScript in, TorchScript out: the fine-tuned backbone, and backbone + head in one file.
    s->script().save((dir / "backbone.pt").string());
    if (i.head.kind == HeadSpec::Kind::Linear)
      s->exportWithHead().save((dir / "model.pt").string());
  }
  const auto& p = i.preprocess;
  if (p.tokenizer) {
    // Text: the vocabulary travels with the weights; no pixel preprocessing applies.
    writeFileAtomic(dir / "vocab.txt", readTextFile(p.tokenizer->vocabFile(), 64 << 20));
    json j{{"format_version", 1},
           {"modality", "text"},
           {"architecture", i.architecture},
           {"backbone", i.backbone},
           {"head", headJson(i.head, net.headName())},
           {"class_names", i.classNames},
           {"tokenizer",
            {{"kind", "wordpiece"},
             {"vocab", "vocab.txt"},
             {"lower_case", p.tokenizer->options().lowerCase},
             {"max_tokens", p.inputSize},
             {"pooling", "mean over the attention mask"}}},
           {"calibration", calibrationJson(i)}};
    writeFileAtomic(dir / "model.json", j.dump(2));
    return;
  }
  json j{{"format_version", 1},
         {"architecture", i.architecture},
         {"backbone", i.backbone},
         {"head", headJson(i.head, net.headName())},
         {"class_names", i.classNames},
         {"preprocess",
          {{"input_size", p.inputSize},
           {"channels", p.channels},
           {"mean", std::vector<float>(p.mean.begin(), p.mean.begin() + p.channels)},
           {"std", std::vector<float>(p.std.begin(), p.std.begin() + p.channels)},
           {"crop_fraction", p.cropFraction},
           {"resize",
            "shorter side to input_size / crop_fraction, centre crop, RGB, (x/255 - mean) / std"}}},
         {"calibration", calibrationJson(i)}};
  writeFileAtomic(dir / "model.json", j.dump(2));
}

namespace {

// Every number model.json feeds into an allocation, range-checked before anything is built.
void checkBundleRanges(const ModelBundleInfo& info, const std::string& file) {
  const auto& h = info.head;
  const auto& p = info.preprocess;
  auto bad = [&](const std::string& what) { throw FormatError(file, what); };
  if (h.numClasses < 2 || h.numClasses > int64_t(kMaxClasses))
    bad("head.num_classes must be 2.." + std::to_string(kMaxClasses));
  if (h.hidden < 0 || h.hidden > 16384) bad("head.hidden must be 0..16384");
  if (!(info.temperature >= 1e-3 && info.temperature <= 1e3))
    bad("calibration.temperature must be in [0.001, 1000]");
  if (!(info.unsureBelow >= 0 && info.unsureBelow <= 1))
    bad("calibration.unsure_below must be in [0, 1]");
  if (info.ood.classMeans.size() > size_t(h.numClasses) ||
      !(info.ood.threshold >= 0 && info.ood.threshold <= 2))
    bad("calibration.ood: at most one mean per class, threshold in [0, 2]");
  if (!(h.dropout >= 0 && h.dropout < 1)) bad("head.dropout must be in [0, 1)");
  if (p.tokenizer) {
    if (p.inputSize < 1 || p.inputSize > 8192) bad("tokenizer.max_tokens must be 1..8192");
    return;
  }
  if (p.inputSize < 8 || p.inputSize > 4096) bad("preprocess.input_size must be 8..4096");
  if (p.channels != 1 && p.channels != 3) bad("preprocess.channels must be 1 or 3");
  if (!(p.cropFraction > 0 && p.cropFraction <= 1))
    bad("preprocess.crop_fraction must be in (0, 1]");
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(p.mean[c]) || !std::isfinite(p.std[c]) || !(p.std[c] > 0))
      bad("preprocess.mean/std must be finite, std > 0");
  }
}

}  // namespace

LoadedModel loadModelBundle(const fs::path& dir) {
  const fs::path meta = dir / "model.json";
  if (!fs::exists(meta)) throw IoError(meta.string(), "not a model bundle (model.json missing)");
  const auto j = readJsonFile(meta.string(), "model.json", 64 << 20);
  LoadedModel m;
  try {
    m.info.architecture = j.at("architecture").get<std::string>();
    m.info.backbone = j.value("backbone", "");
    const auto& h = j.at("head");
    m.info.head.kind = kHeadKindNames.parse(h.at("kind").get<std::string>(), "head kind");
    m.info.head.numClasses =
        jsonIntegerAs<int64_t>(h.at("num_classes"), meta.string(), "num_classes");
    m.info.head.hidden = jsonIntegerAs<int64_t>(h.at("hidden"), meta.string(), "hidden");
    m.info.head.dropout = h.at("dropout").get<double>();
    m.info.classNames = j.at("class_names").get<std::vector<std::string>>();
    readPreprocess(j, dir, m.info.preprocess);
    if (const auto c = j.find("calibration"); c != j.end()) {  // older bundles: none
      m.info.temperature = c->at("temperature").get<double>();
      m.info.unsureBelow = c->at("unsure_below").get<double>();
      if (const auto o = c->find("ood"); o != c->end()) {
        m.info.ood.classMeans = o->at("class_means").get<std::vector<std::vector<float>>>();
        m.info.ood.threshold = o->at("threshold").get<double>();
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw FormatError(meta.string(), std::string("missing or bad field: ") + e.what());
  }
  if (int64_t(m.info.classNames.size()) != m.info.head.numClasses) {
    throw FormatError(meta.string(), "class_names and head.num_classes disagree");
  }
  checkBundleRanges(m.info, meta.string());
  // Nothing is built that is larger than the weights that must fill it.
  const fs::path weights = dir / "model.safetensors";
  uint64_t weightBytes = 0;
  ::close(openRegularFile(weights, &weightBytes));
  auto mustFit = [&](int64_t parameters, const std::string& what) {
    if (uint64_t(parameters) > weightBytes / 2 + (1 << 20)) {
      throw FormatError(meta.string(), what + " needs " + std::to_string(parameters) +
                                           " parameters but model.safetensors holds only " +
                                           std::to_string(weightBytes) + " bytes");
    }
  };
  if (const auto bert = BertConfig::fromArchitecture(m.info.architecture))
    mustFit(bert->parameterCount(), "architecture " + m.info.architecture);
  if (m.info.architecture == "torchscript") {
    m.net = std::make_shared<ScriptBackboneImpl>(loadTorchScript(dir / "backbone.pt"),
                                                 m.info.preprocess.inputSize,
                                                 m.info.preprocess.channels, 10);
  } else {
    m.net = createArchitecture(m.info.architecture, 10, m.info.preprocess.channels);
  }
  const int64_t f = m.net->featureDim(), c = m.info.head.numClasses, hid = m.info.head.hidden;
  for (const auto& mean : m.info.ood.classMeans)
    if (int64_t(mean.size()) != f)
      throw FormatError(meta.string(),
                        "calibration.ood.class_means: " + std::to_string(mean.size()) +
                            " values per mean, the network has " + std::to_string(f) + " features");
  mustFit(m.info.head.kind == HeadSpec::Kind::Mlp ? f * hid + hid + hid * c + c : f * c + c,
          "the head");
  m.net->replaceHead(m.info.head);
  const LoadReport r = loadStateDict(*m.net, readSafetensors(weights));
  if (!r.complete())
    throw FormatError((dir / "model.safetensors").string(),
                      "does not fit model.json: " + r.summary());
  m.net->eval();
  return m;
}

}  // namespace tlab::core
