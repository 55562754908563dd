#include "core/project/Project.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/Errors.h"
#include "core/dataset/ImageVerifier.h"
#include "core/dataset/Readers.h"
#include "core/dataset/Split.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"
#include "core/util/Trust.h"
#include "core/zoo/Download.h"

namespace tlab::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxProjectBytes = 256ULL << 20;

std::string relativeTo(const std::string& path, const fs::path& base) {
  if (path.empty() || base.empty()) return path;
  const fs::path p = fs::path(path).lexically_normal();
  const fs::path rel = p.lexically_relative(base.lexically_normal());
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return path;
}

std::string resolve(const std::string& path, const fs::path& base) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (base / path).lexically_normal().string();
}

json runJson(const RunRecord& r, const fs::path& base) {
  json history = json::array();
  for (const auto& e : r.history) history.push_back(toJson(e));
  json j{{"id", r.id},
         {"name", r.name},
         {"folder", relativeTo(r.folder, base)},
         {"state", kRunStatusNames.name(r.status)},
         {"config", toJson(r.config)},
         {"history", history},
         {"seconds", r.seconds}};
  if (!r.error.empty()) j["error"] = r.error;
  if (r.valAccuracy) j["val_accuracy"] = *r.valAccuracy;
  if (r.testAccuracy) j["test_accuracy"] = *r.testAccuracy;
  return j;
}

RunRecord runFromJson(const json& j, const fs::path& base, const std::string& source) {
  RunRecord r;
  r.id = j.at("id").get<std::string>();
  r.name = j.value("name", r.id);
  r.folder = resolve(j.value("folder", ""), base);
  try {
    r.status = kRunStatusNames.parse(j.value("state", "finished"), "run state");
  } catch (const InvalidArgument& e) {
    throw FormatError(source, std::string(e.what()) + " in run " + r.id);
  }
  r.error = j.value("error", "");
  r.config = trainConfigFromJson(j.at("config"), source + " (run " + r.id + ")");
  for (const auto& e : j.value("history", json::array()))
    r.history.push_back(epochMetricsFromJson(e, source));
  if (j.contains("val_accuracy")) r.valAccuracy = j["val_accuracy"].get<double>();
  if (j.contains("test_accuracy")) r.testAccuracy = j["test_accuracy"].get<double>();
  r.seconds = j.value("seconds", 0.0);
  return r;
}

}  // namespace

RunStatus endedStatus(RunState finalState) {
  switch (finalState) {
    case RunState::Cancelled:
      return RunStatus::Cancelled;
    case RunState::Failed:
      return RunStatus::Failed;
    default:
      return RunStatus::Finished;
  }
}

const RunRecord* Project::findRun(const std::string& id) const {
  for (const auto& r : runs)
    if (r.id == id) return &r;
  return nullptr;
}

std::string Project::nextRunId() const {
  int highest = 0;
  for (const auto& r : runs) {
    if (r.id.rfind("run-", 0) == 0) {
      try {
        highest = std::max(highest, std::stoi(r.id.substr(4)));
      } catch (const std::exception&) {  // a hand-edited id: not numbered
      }
    }
  }
  return "run-" + std::to_string(highest + 1);
}

json toJson(const Project& p, const fs::path& base) {
  json edits = json::array();
  for (const auto& e : p.labelEdits) edits.push_back({{"sample", e.sampleKey}, {"label", e.label}});
  json runs = json::array();
  for (const auto& r : p.runs) runs.push_back(runJson(r, base));
  return {{"format", "transferlab-project"},
          {"format_version", Project::kFormatVersion},
          {"name", p.name},
          {"dataset",
           {{"path", relativeTo(p.dataset.path, base)},
            {"format", p.dataset.format},
            {"allow_paths_outside", p.dataset.allowPathsOutside},
            {"val_fraction", p.dataset.valFraction},
            {"test_fraction", p.dataset.testFraction},
            {"split_seed", p.dataset.splitSeed},
            {"keep_predefined_split", p.dataset.keepPredefinedSplit}}},
          {"label_edits", edits},
          {"kept_labels", p.keptLabels},
          {"config", toJson(p.config)},
          {"runs", runs}};
}

Project projectFromJson(const json& j, const fs::path& base, const std::string& source) {
  // Found by fuzzing: json::value() throws when the key holds another type, so the header
  // fields are type-checked before they are read.
  if (!j.is_object() || !j.contains("format") || j["format"] != "transferlab-project")
    throw FormatError(source, "not a TransferLab project (\"format\" is not transferlab-project)");
  const int version = j.contains("format_version") && j["format_version"].is_number_integer()
                          ? j["format_version"].get<int>()
                          : 0;
  if (version < 1 || version > Project::kFormatVersion) {
    throw FormatError(source, "project format version " + std::to_string(version) +
                                  " is not supported (this build reads 1 to " +
                                  std::to_string(Project::kFormatVersion) +
                                  "); was it saved by a newer TransferLab?");
  }
  Project p;
  std::string key = "name";
  try {
    p.name = j.value("name", p.name);
    key = "dataset";
    const json& d = j.at("dataset");
    p.dataset.path = resolve(d.value("path", ""), base);
    p.dataset.format = d.value("format", p.dataset.format);
    p.dataset.allowPathsOutside = d.value("allow_paths_outside", false);
    p.dataset.valFraction = d.value("val_fraction", p.dataset.valFraction);
    p.dataset.testFraction = d.value("test_fraction", p.dataset.testFraction);
    if (d.contains("split_seed"))
      p.dataset.splitSeed =
          jsonIntegerAs<decltype(p.dataset.splitSeed)>(d["split_seed"], source, "split_seed");
    p.dataset.keepPredefinedSplit = d.value("keep_predefined_split", true);
    key = "label_edits";
    for (const auto& e : j.value("label_edits", json::array()))
      p.labelEdits.push_back({e.at("sample").get<std::string>(), e.at("label").get<std::string>()});
    key = "kept_labels";
    if (j.contains("kept_labels")) {
      if (!j["kept_labels"].is_array()) throw FormatError(source, "kept_labels is not a list");
      for (const auto& k : j["kept_labels"]) p.keptLabels.push_back(k.get<std::string>());
    }
    key = "config";
    p.config = trainConfigFromJson(j.at("config"), source);
    key = "runs";
    for (const auto& r : j.value("runs", json::array()))
      p.runs.push_back(runFromJson(r, base, source));
  } catch (const Error&) {
    throw;
  } catch (const json::exception& e) {
    throw FormatError(source, "bad or missing field in \"" + key + "\": " + e.what());
  }
  try {
    parseDatasetFormat(p.dataset.format);
  } catch (const InvalidArgument& e) {
    throw FormatError(source, std::string("dataset.format: ") + e.what());
  }
  if (p.dataset.valFraction < 0 || p.dataset.testFraction < 0 ||
      p.dataset.valFraction + p.dataset.testFraction >= 1) {
    throw FormatError(source, "dataset.val_fraction + dataset.test_fraction must be in [0, 1)");
  }
  return p;
}

Project loadProject(const fs::path& file) {
  const std::string text = readTextFile(file, kMaxProjectBytes);
  const json j = parseJsonDocument(text, file.string(), "project file (damaged?)");
  return projectFromJson(j, fs::absolute(file).parent_path(), file.string());
}

std::vector<ConsentRequest> consentRequests(const Project& p) {
  std::vector<ConsentRequest> out;
  if (p.dataset.allowPathsOutside) {
    out.push_back({ConsentRequest::Kind::PathsOutsideDataset, p.dataset.path,
                   "This project lets its dataset manifest " + p.dataset.path +
                       " name files outside the manifest's folder, anywhere on this computer. "
                       "Allow that only if you trust the project's source."});
  }
  const fs::path backbone = p.config.backbone;
  const std::string ext = lowerExtension(backbone);
  if ((ext == ".pt" || ext == ".ts" || ext == ".pth") && fs::exists(backbone) &&
      !isTrustedFile(backbone)) {
    out.push_back({ConsentRequest::Kind::TorchScriptBackbone, backbone.string(),
                   "This project trains the TorchScript backbone " + backbone.string() +
                       ". Loading TorchScript can run arbitrary code on this computer. Trust "
                       "this file only if you trust where it came from."});
  }
  return out;
}

void applyConsent(Project& p, const ConsentRequest& r, bool granted) {
  if (r.kind == ConsentRequest::Kind::PathsOutsideDataset && !granted)
    p.dataset.allowPathsOutside = false;
  if (r.kind == ConsentRequest::Kind::TorchScriptBackbone && granted) trustFile(r.file);
}

void saveProject(const fs::path& file, const Project& project) {
  writeFileAtomic(file, toJson(project, fs::absolute(file).parent_path()).dump(2) + "\n");
}

std::string sampleKey(const Dataset& ds, size_t i) {
  const Sample& s = ds.samples.at(i);
  if (!s.path.empty()) return s.path;
  if (s.index >= 0) return "#" + std::to_string(s.index);
  return "text:" + sha256Hex(s.text);
}

std::vector<LabelEdit> applyLabelEdits(Dataset& ds, const std::vector<LabelEdit>& edits) {
  std::map<std::string, const LabelEdit*> byKey;
  for (const auto& e : edits) byKey[e.sampleKey] = &e;  // a later edit of a sample wins
  std::map<std::string, bool> used;
  std::vector<Sample> kept;
  kept.reserve(ds.samples.size());
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    const auto it = byKey.find(sampleKey(ds, i));
    Sample s = ds.samples[i];
    if (it != byKey.end()) {
      used[it->first] = true;
      const std::string& label = it->second->label;
      if (label.empty()) continue;  // excluded
      auto c = std::find(ds.classNames.begin(), ds.classNames.end(), label);
      if (c == ds.classNames.end()) {
        ds.classNames.push_back(label);
        c = ds.classNames.end() - 1;
      }
      s.label = int32_t(c - ds.classNames.begin());
    }
    kept.push_back(std::move(s));
  }
  ds.samples = std::move(kept);
  std::vector<LabelEdit> unmatched;
  for (const auto& [key, e] : byKey)
    if (!used.count(key)) unmatched.push_back(*e);
  return unmatched;
}

std::vector<Split> sourceSplits(const Dataset& source, const Dataset& training) {
  std::unordered_map<std::string, Split> byKey;
  byKey.reserve(training.size());
  for (size_t i = 0; i < training.size(); ++i)
    byKey.emplace(sampleKey(training, i), training.samples[i].split);
  std::vector<Split> out(source.size(), Split::None);
  for (size_t i = 0; i < source.size(); ++i) {
    const auto it = byKey.find(sampleKey(source, i));
    if (it != byKey.end()) out[i] = it->second;
  }
  return out;
}

Dataset projectDataset(const Dataset& source, const Project& project,
                       std::vector<LabelEdit>* stale) {
  Dataset ds = source;
  auto unmatched = applyLabelEdits(ds, project.labelEdits);
  if (stale) *stale = std::move(unmatched);
  assignSplits(ds, splitSpec(project.dataset));
  return ds;
}

Dataset openProjectDataset(const Project& project, const std::atomic<bool>* cancel) {
  if (project.dataset.path.empty()) throw InvalidArgument("the project has no dataset");
  ReadOptions options = readOptions(project.dataset);
  options.cancel = cancel;
  Dataset source = openDataset(project.dataset.path, options);
  VerifyOptions verify;
  verify.cancel = cancel;
  verifyImages(source, verify);
  throwIfCancelled(cancel);
  return projectDataset(source, project);
}

}  // namespace tlab::core
