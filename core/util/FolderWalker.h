#pragma once
// Lists dataset folders without ever leaving them or looping. A symlink is followed only when it
// resolves inside the root the walker was made for, each real folder (device, inode) is entered
// once, FIFOs, devices and sockets are skipped with a reason, and nesting and entry counts are
// capped (kMaxFolderDepth, kMaxFolderEntries), so a hostile tree costs bounded time and memory.
// Not thread-safe: one walker per listing.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset/Dataset.h"

namespace tlab::core {

constexpr int kMaxFolderDepth = 32;
constexpr size_t kMaxFolderEntries = kMaxSamples;

class FolderWalker {
 public:
  /// `cancel`: listing throws Cancelled at the next entry once it is set.
  explicit FolderWalker(const std::filesystem::path& root,
                        const std::atomic<bool>* cancel = nullptr);

  enum class Kind { Folder, File };
  struct Entry {
    std::filesystem::path path;
    Kind kind;
  };
  /// Sorted entries of `dir` (hidden names left out). Anything unusable is added to `skipped`.
  std::vector<Entry> list(const std::filesystem::path& dir, std::vector<SkippedItem>& skipped);
  /// Every regular file below `dir`, depth first, sorted per folder; `depth` of `dir` itself.
  /// A folder already collected (through another link) is skipped with a reason.
  void collectFiles(const std::filesystem::path& dir, std::vector<std::filesystem::path>& out,
                    std::vector<SkippedItem>& skipped, int depth = 0);

 private:
  bool enter(const std::filesystem::path& dir, std::vector<SkippedItem>& skipped);

  std::filesystem::path root_;  ///< canonical
  std::pair<uint64_t, uint64_t> rootId_{0, 0};
  bool rootEntered_ = false;
  std::set<std::pair<uint64_t, uint64_t>> visited_;
  size_t entries_ = 0;
  const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace tlab::core
