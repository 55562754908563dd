#include "core/util/FolderWalker.h"

#include <sys/stat.h>

#include <algorithm>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;

FolderWalker::FolderWalker(const fs::path& root, const std::atomic<bool>* cancel)
    : cancel_(cancel) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec) throw IoError(root.string(), "cannot open folder: " + ec.message());
  struct stat st {};
  if (::stat(root_.c_str(), &st) == 0) rootId_ = {uint64_t(st.st_dev), uint64_t(st.st_ino)};
  visited_.insert(rootId_);
}

bool FolderWalker::enter(const fs::path& dir, std::vector<SkippedItem>& skipped) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return false;
  if (std::make_pair(uint64_t(st.st_dev), uint64_t(st.st_ino)) == rootId_ && !rootEntered_) {
    rootEntered_ = true;  // the root itself, listed once
    return true;
  }
  if (!visited_.insert({uint64_t(st.st_dev), uint64_t(st.st_ino)}).second) {
    skipped.push_back({dir.string(), 0, "folder already listed (symlink loop or duplicate link)"});
    return false;
  }
  return true;
}

std::vector<FolderWalker::Entry> FolderWalker::list(const fs::path& dir,
                                                    std::vector<SkippedItem>& skipped) {
  std::vector<Entry> out;
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    skipped.push_back({dir.string(), 0, "cannot list folder: " + ec.message()});
    return out;
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      skipped.push_back({dir.string(), 0, "cannot list folder: " + ec.message()});
      break;
    }
    throwIfCancelled(cancel_);
    if (++entries_ > kMaxFolderEntries) {
      throw FormatError(root_.string(), "more than " + std::to_string(kMaxFolderEntries) +
                                            " entries below this folder (limit)");
    }
    const fs::path p = it->path();
    const std::string name = p.filename().string();
    if (!name.empty() && name[0] == '.') continue;
    struct stat lst {
    }, st{};
    if (::lstat(p.c_str(), &lst) != 0) continue;
    if (S_ISLNK(lst.st_mode)) {
      if (::stat(p.c_str(), &st) != 0) {
        skipped.push_back({p.string(), 0, "broken symbolic link"});
        continue;
      }
      if (!isInsideRoot(root_, p)) {
        skipped.push_back({p.string(), 0, "symbolic link leads outside the dataset folder"});
        continue;
      }
    } else {
      st = lst;
    }
    if (S_ISDIR(st.st_mode)) {
      out.push_back({p, Kind::Folder});
    } else if (S_ISREG(st.st_mode)) {
      out.push_back({p, Kind::File});
    } else {
      skipped.push_back({p.string(), 0,
                         S_ISFIFO(st.st_mode) ? "a FIFO (named pipe), not a file"
                                              : "a device or socket, not a file"});
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });
  return out;
}

void FolderWalker::collectFiles(const fs::path& dir, std::vector<fs::path>& out,
                                std::vector<SkippedItem>& skipped, int depth) {
  if (depth > kMaxFolderDepth) {
    skipped.push_back(
        {dir.string(), 0,
         "nested more than " + std::to_string(kMaxFolderDepth) + " folders deep; not listed"});
    return;
  }
  if (!enter(dir, skipped)) return;
  for (const auto& e : list(dir, skipped)) {
    if (e.kind == Kind::File) {
      out.push_back(e.path);
    } else {
      collectFiles(e.path, out, skipped, depth + 1);
    }
  }
}

}  // namespace tlab::core
