#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/util/Csv.h"
#include "core/util/FileUtil.h"
#include "core/util/FolderWalker.h"
#include "core/util/Json.h"
#include "core/util/Utf8.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kMaxTextFileBytes = 2ULL << 30;
constexpr uint64_t kMaxSampleFileBytes = 64ULL << 20;

struct Row {
  std::string text, label;
  Split split = Split::None;
  std::string path;
};

// Accepts a row once its text, label and split are known good; otherwise records why not.
void addRow(std::vector<Row>& rows, std::vector<SkippedItem>& skipped, const std::string& file,
            size_t line, Row row, const std::string& splitText) {
  if (!isValidUtf8(row.text) || !isValidUtf8(row.label)) {
    skipped.push_back({file, line, "invalid UTF-8 text"});
    return;
  }
  if (row.text.find_first_not_of(" \t\r\n") == std::string::npos) {
    skipped.push_back({file, line, "empty text"});
    return;
  }
  if (row.label.empty()) {
    skipped.push_back({file, line, "missing label"});
    return;
  }
  if (!splitText.empty()) {
    const auto split = parseSplit(splitText);
    if (!split) {
      skipped.push_back(
          {file, line, "unknown split '" + splitText + "' (expected train, val or test)"});
      return;
    }
    row.split = *split;
  }
  rows.push_back(std::move(row));
}

void readDelimited(const fs::path& path, const std::string& content, std::vector<Row>& rows,
                   std::vector<SkippedItem>& skipped) {
  const std::string file = path.string();
  CsvParseResult parsed = parseDelimited(content, detectDelimiter(content, lowerExtension(path)));
  for (const auto& p : parsed.problems) skipped.push_back({file, p.line, p.reason});
  int textCol = 0, labelCol = 1, splitCol = 2;
  size_t first = 0;
  if (!parsed.records.empty()) {
    const auto& head = parsed.records[0].fields;
    std::map<std::string, int> cols;
    for (size_t i = 0; i < head.size(); ++i) cols[asciiLower(head[i])] = int(i);
    if (cols.count("text") && cols.count("label")) {
      textCol = cols["text"];
      labelCol = cols["label"];
      splitCol = cols.count("split") ? cols["split"] : -1;
      first = 1;
    }
  }
  for (size_t r = first; r < parsed.records.size(); ++r) {
    const auto& rec = parsed.records[r];
    const int n = int(rec.fields.size());
    if (n <= std::max(textCol, labelCol)) {
      skipped.push_back(
          {file, rec.line,
           "expected text and label columns, found " + std::to_string(n) + " field(s)"});
      continue;
    }
    Row row{rec.fields[textCol], rec.fields[labelCol], Split::None, ""};
    const std::string splitText = (splitCol >= 0 && splitCol < n) ? rec.fields[splitCol] : "";
    addRow(rows, skipped, file, rec.line, std::move(row), splitText);
  }
}

void readJsonl(const fs::path& path, const std::string& content, std::vector<Row>& rows,
               std::vector<SkippedItem>& skipped) {
  const std::string file = path.string();
  const std::string_view text = stripBom(content);
  size_t start = 0, line = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++line;
    if (raw.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!isValidUtf8(raw)) {
      skipped.push_back({file, line, "invalid UTF-8 text"});
      continue;
    }
    if (jsonNestingDepth(raw, kMaxJsonDepth) > kMaxJsonDepth) {
      skipped.push_back(
          {file, line, "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels"});
      continue;
    }
    const auto obj = nlohmann::json::parse(raw, nullptr, false);
    if (obj.is_discarded() || !obj.is_object()) {
      skipped.push_back({file, line, "not a JSON object"});
      continue;
    }
    Row row;
    if (!obj.contains("text") || !obj["text"].is_string()) {
      skipped.push_back({file, line, "missing string field \"text\""});
      continue;
    }
    row.text = obj["text"].get<std::string>();
    if (obj.contains("label") && obj["label"].is_string())
      row.label = obj["label"].get<std::string>();
    if (obj.contains("label") && obj["label"].is_number_integer()) row.label = obj["label"].dump();
    std::string split;
    if (obj.contains("split") && obj["split"].is_string()) split = obj["split"].get<std::string>();
    addRow(rows, skipped, file, line, std::move(row), split);
  }
}

void readTextFolder(const fs::path& root, std::vector<Row>& rows, std::vector<SkippedItem>& skipped,
                    const std::atomic<bool>* cancel) {
  std::vector<fs::path> files;
  FolderWalker(root, cancel).collectFiles(root, files, skipped);
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    throwIfCancelled(cancel);
    const fs::path rel = fs::relative(f, root);
    std::vector<std::string> parts;
    for (const auto& p : rel) parts.push_back(p.string());
    Split split = Split::None;
    size_t classPart = 0;
    if (parts.size() >= 3 && parseSplit(parts[0])) {
      split = *parseSplit(parts[0]);
      classPart = 1;
    }
    if (parts.size() < classPart + 2) {
      skipped.push_back({f.string(), 0, "file outside any class folder"});
      continue;
    }
    if (lowerExtension(f) != ".txt") {
      skipped.push_back({f.string(), 0, "not a .txt file"});
      continue;
    }
    std::string content;
    try {
      content = readTextFile(f, kMaxSampleFileBytes);
    } catch (const Error& e) {
      skipped.push_back({f.string(), 0, e.what()});
      continue;
    }
    Row row{std::string(stripBom(content)), parts[classPart], split, f.string()};
    addRow(rows, skipped, f.string(), 0, std::move(row), "");
  }
}

}  // namespace

Dataset readTextDataset(const fs::path& path, const std::atomic<bool>* cancel) {
  std::vector<Row> rows;
  Dataset ds;
  ds.format = "text";
  ds.modality = Modality::Text;
  ds.source = path;
  if (fs::is_directory(path)) {
    readTextFolder(path, rows, ds.skipped, cancel);
  } else {
    const std::string content = readTextFile(path, kMaxTextFileBytes);
    const std::string ext = lowerExtension(path);
    if (ext == ".jsonl" || ext == ".ndjson") {
      readJsonl(path, content, rows, ds.skipped);
    } else {
      readDelimited(path, content, rows, ds.skipped);
    }
  }
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.label);
  ds.classNames = sortedClassNames(names);
  std::map<std::string, int32_t> index;
  for (size_t c = 0; c < ds.classNames.size(); ++c) index[ds.classNames[c]] = int32_t(c);
  for (auto& r : rows) {
    Sample s;
    s.path = r.path;
    s.text = std::move(r.text);
    s.label = index.at(r.label);
    s.split = r.split;
    ds.samples.push_back(std::move(s));
  }
  return ds;
}

}  // namespace tlab::core
