#include "core/train/ModelBundle.h"

#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/model/ScriptBackbone.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/util/FileUtil.h"
#include "core/weights/StateDict.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json headJson(const HeadSpec& h, const std::string& module) {
  return {{"kind", h.kind == HeadSpec::Kind::Mlp ? "mlp" : "linear"},
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
    out.inputSize = t.at("max_tokens").get<int>();
    out.channels = 1;
    out.tokenizer = WordPieceTokenizer::load(dir / vocab, o);
    return;
  }
  const auto& p = j.at("preprocess");
  out.inputSize = p.at("input_size").get<int>();
  out.channels = p.at("channels").get<int>();
  const auto mean = p.at("mean").get<std::vector<float>>(),
             sd = p.at("std").get<std::vector<float>>();
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
             {"pooling", "mean over the attention mask"}}}};
    writeFileAtomic(dir / "model.json", j.dump(2));
    return;
  }
  json j{
      {"format_version", 1},
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
         "shorter side to input_size / crop_fraction, centre crop, RGB, (x/255 - mean) / std"}}}};
  writeFileAtomic(dir / "model.json", j.dump(2));
}

LoadedModel loadModelBundle(const fs::path& dir) {
  const fs::path meta = dir / "model.json";
  if (!fs::exists(meta)) throw IoError(meta.string(), "not a model bundle (model.json missing)");
  const auto j = json::parse(readTextFile(meta, 64 << 20), nullptr, false);
  if (j.is_discarded()) throw FormatError(meta.string(), "invalid JSON");
  LoadedModel m;
  try {
    m.info.architecture = j.at("architecture").get<std::string>();
    m.info.backbone = j.value("backbone", "");
    const auto& h = j.at("head");
    m.info.head.kind =
        h.at("kind").get<std::string>() == "mlp" ? HeadSpec::Kind::Mlp : HeadSpec::Kind::Linear;
    m.info.head.numClasses = h.at("num_classes").get<int64_t>();
    m.info.head.hidden = h.at("hidden").get<int64_t>();
    m.info.head.dropout = h.at("dropout").get<double>();
    m.info.classNames = j.at("class_names").get<std::vector<std::string>>();
    readPreprocess(j, dir, m.info.preprocess);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw FormatError(meta.string(), std::string("missing or bad field: ") + e.what());
  }
  if (int64_t(m.info.classNames.size()) != m.info.head.numClasses) {
    throw FormatError(meta.string(), "class_names and head.num_classes disagree");
  }
  if (m.info.architecture == "torchscript") {
    m.net = std::make_shared<ScriptBackboneImpl>(loadTorchScript(dir / "backbone.pt"),
                                                 m.info.preprocess.inputSize,
                                                 m.info.preprocess.channels, 10);
  } else {
    m.net = createArchitecture(m.info.architecture, 10, m.info.preprocess.channels);
  }
  m.net->replaceHead(m.info.head);
  const LoadReport r = loadStateDict(*m.net, readSafetensors(dir / "model.safetensors"));
  if (!r.complete())
    throw FormatError((dir / "model.safetensors").string(),
                      "does not fit model.json: " + r.summary());
  m.net->eval();
  return m;
}

}  // namespace tlab::core
