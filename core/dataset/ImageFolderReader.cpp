#include <algorithm>
#include <map>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/image/ImageDecoder.h"
#include "core/util/FolderWalker.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

bool isDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Adds every file of one class folder (recursively, so nested albums still count).
void collectClass(FolderWalker& walker, const fs::path& classDir, const std::string& className,
                  Split split, std::map<std::string, std::vector<Sample>>& byClass,
                  std::vector<SkippedItem>& skipped) {
  std::vector<fs::path> files;
  walker.collectFiles(classDir, files, skipped);
  auto& list = byClass[className];
  for (const auto& p : files) {
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

Dataset readImageFolder(const fs::path& root, const std::atomic<bool>* cancel) {
  if (!isDir(root)) throw IoError(root.string(), "not a folder");
  Dataset ds;
  ds.format = "folder";
  ds.modality = Modality::Image;
  ds.source = root;
  std::map<std::string, std::vector<Sample>> byClass;

  FolderWalker walker(root, cancel);
  const auto top = walker.list(root, ds.skipped);
  bool splitLayout = false;
  for (const auto& e : top) {
    if (e.kind == FolderWalker::Kind::Folder && parseSplit(e.path.filename().string()))
      splitLayout = true;
  }
  for (const auto& e : top) {
    const fs::path& p = e.path;
    if (e.kind != FolderWalker::Kind::Folder) {
      ds.skipped.push_back({p.string(), 0, "file outside any class folder"});
      continue;
    }
    if (!splitLayout) {
      collectClass(walker, p, p.filename().string(), Split::None, byClass, ds.skipped);
      continue;
    }
    const auto split = parseSplit(p.filename().string());
    if (!split) {
      ds.skipped.push_back(
          {p.string(), 0, "folder is neither train/, val/ nor test/ in a split layout"});
      continue;
    }
    for (const auto& c : walker.list(p, ds.skipped)) {
      if (c.kind == FolderWalker::Kind::Folder) {
        collectClass(walker, c.path, c.path.filename().string(), *split, byClass, ds.skipped);
      } else {
        ds.skipped.push_back({c.path.string(), 0, "file outside any class folder"});
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
