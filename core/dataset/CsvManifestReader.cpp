#include <algorithm>
#include <map>
#include <optional>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/util/Csv.h"
#include "core/util/FileUtil.h"
#include "core/util/Utf8.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kMaxManifestBytes = 1ULL << 30;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool isHeader(const std::vector<std::string>& f) {
  static const char* kPath[] = {"path", "file", "filename", "image", "filepath", "image_path"};
  static const char* kLabel[] = {"label", "class", "category", "target"};
  if (f.size() < 2) return false;
  const std::string a = asciiLower(trim(f[0]));
  const std::string b = asciiLower(trim(f[1]));
  return std::any_of(std::begin(kPath), std::end(kPath), [&](const char* k) { return a == k; }) &&
         std::any_of(std::begin(kLabel), std::end(kLabel), [&](const char* k) { return b == k; });
}

}  // namespace

namespace {

// One manifest row as a sample (its label alongside), or the reason it is skipped.
std::optional<std::pair<Sample, std::string>> readRow(const CsvRecord& rec, const fs::path& root,
                                                      PathPolicy policy, std::string& reason) {
  if (rec.fields.size() < 2 || rec.fields.size() > 3) {
    reason =
        "expected 2 or 3 fields (path, label[, split]), found " + std::to_string(rec.fields.size());
    return std::nullopt;
  }
  const std::string rel = trim(rec.fields[0]);
  const std::string label = trim(rec.fields[1]);
  if (rel.empty() || label.empty()) {
    reason = rel.empty() ? "empty path" : "empty label";
    return std::nullopt;
  }
  Sample s;
  if (rec.fields.size() == 3 && !trim(rec.fields[2]).empty()) {
    const auto split = parseSplit(trim(rec.fields[2]));
    if (!split) {
      reason = "unknown split '" + trim(rec.fields[2]) + "' (expected train, val or test)";
      return std::nullopt;
    }
    s.split = *split;
  }
  const fs::path full = fs::path(rel).is_absolute() ? fs::path(rel) : root / rel;
  if (policy == PathPolicy::StayInsideRoot && !isInsideRoot(root, full)) {
    reason = "path '" + rel + "' escapes the dataset folder " + root.string() +
             " (allow it explicitly to use it)";
    return std::nullopt;
  }
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) {
    reason = "file not found: " + full.string();
    return std::nullopt;
  }
  s.path = full.lexically_normal().string();
  return std::make_pair(std::move(s), label);
}

}  // namespace

Dataset readCsvManifest(const fs::path& manifest, PathPolicy policy,
                        const std::atomic<bool>* cancel) {
  const std::string text = readTextFile(manifest, kMaxManifestBytes);
  if (!isValidUtf8(text)) {
    throw FormatError(manifest.string(), "manifest is not valid UTF-8 text");
  }
  const char delim = detectDelimiter(text, lowerExtension(manifest));
  CsvParseResult parsed = parseDelimited(text, delim);

  Dataset ds;
  ds.format = "csv";
  ds.modality = Modality::Image;
  ds.source = manifest;
  const std::string file = manifest.string();
  for (const auto& p : parsed.problems) ds.skipped.push_back({file, p.line, p.reason});

  const fs::path root = manifest.parent_path().empty() ? fs::path(".") : manifest.parent_path();
  std::vector<std::pair<Sample, std::string>> rows;
  size_t first = (!parsed.records.empty() && isHeader(parsed.records[0].fields)) ? 1 : 0;
  for (size_t r = first; r < parsed.records.size(); ++r) {
    throwIfCancelled(cancel);  // each row looks at the file system
    std::string reason;
    if (auto row = readRow(parsed.records[r], root, policy, reason)) {
      rows.push_back(std::move(*row));
    } else {
      ds.skipped.push_back({file, parsed.records[r].line, reason});
    }
  }
  std::vector<std::string> names;
  for (const auto& row : rows) names.push_back(row.second);
  ds.classNames = sortedClassNames(names);
  std::map<std::string, int32_t> index;
  for (size_t c = 0; c < ds.classNames.size(); ++c) index[ds.classNames[c]] = int32_t(c);
  for (auto& [sample, label] : rows) {
    sample.label = index.at(label);
    ds.samples.push_back(std::move(sample));
  }
  return ds;
}

}  // namespace tlab::core
