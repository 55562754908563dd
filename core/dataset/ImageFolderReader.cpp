#include <algorithm>
#include <map>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/image/ImageDecoder.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

bool isHidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

std::vector<fs::path> sortedEntries(const fs::path& dir, std::vector<SkippedItem>& skipped) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    skipped.push_back({dir.string(), 0, "cannot list folder: " + ec.message()});
    return out;
  }
  for (const auto& entry : it) {
    if (!isHidden(entry.path())) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool isDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Adds every file of one class folder (recursively, so nested albums still count).
void collectClass(const fs::path& classDir, const std::string& className, Split split,
                  std::map<std::string, std::vector<Sample>>& byClass,
                  std::vector<SkippedItem>& skipped) {
  auto& list = byClass[className];
  for (const auto& p : sortedEntries(classDir, skipped)) {
    if (isDir(p)) {
      collectClass(p, className, split, byClass, skipped);
      continue;
    }
    if (!hasImageExtension(p)) {
      skipped.push_back(
          {p.string(), 0,
           "not an image file (unsupported extension '" + p.extension().string() + "')"});
      continue;
    }
    Sample s;
    s.path = p.string();
    s.split = split;
    list.push_back(std::move(s));
  }
}

}  // namespace

Dataset readImageFolder(const fs::path& root) {
  if (!isDir(root)) throw IoError(root.string(), "not a folder");
  Dataset ds;
  ds.format = "folder";
  ds.modality = Modality::Image;
  ds.source = root;
  std::map<std::string, std::vector<Sample>> byClass;

  const auto top = sortedEntries(root, ds.skipped);
  bool splitLayout = false;
  for (const auto& p : top) {
    if (isDir(p) && parseSplit(p.filename().string())) splitLayout = true;
  }
  for (const auto& p : top) {
    if (!isDir(p)) {
      ds.skipped.push_back({p.string(), 0, "file outside any class folder"});
      continue;
    }
    if (!splitLayout) {
      collectClass(p, p.filename().string(), Split::None, byClass, ds.skipped);
      continue;
    }
    const auto split = parseSplit(p.filename().string());
    if (!split) {
      ds.skipped.push_back(
          {p.string(), 0, "folder is neither train/, val/ nor test/ in a split layout"});
      continue;
    }
    for (const auto& classDir : sortedEntries(p, ds.skipped)) {
      if (isDir(classDir)) {
        collectClass(classDir, classDir.filename().string(), *split, byClass, ds.skipped);
      } else {
        ds.skipped.push_back({classDir.string(), 0, "file outside any class folder"});
      }
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, list] : byClass) names.push_back(name);
  ds.classNames = sortedClassNames(names);
  for (size_t c = 0; c < ds.classNames.size(); ++c) {
    for (auto& s : byClass[ds.classNames[c]]) {
      s.label = static_cast<int32_t>(c);
      ds.samples.push_back(std::move(s));
    }
  }
  return ds;
}

}  // namespace tlab::core
