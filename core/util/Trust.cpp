#include "core/util/Trust.h"

#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

std::mutex& trustMutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::string>& trusted() {  // canonical path -> stamp when trusted
  static std::map<std::string, std::string> t;
  return t;
}
std::atomic<bool> gTrustAll{false};

// Canonical path and a stamp of what the file is now; empty when it cannot be read.
std::pair<std::string, std::string> identify(const fs::path& path) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  struct stat st {};
  if (ec || ::stat(canonical.c_str(), &st) != 0) return {};
  return {canonical.string(), std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
                                  std::to_string(st.st_size) + ":" +
                                  std::to_string(st.st_mtim.tv_sec) + "." +
                                  std::to_string(st.st_mtim.tv_nsec)};
}

}  // namespace

UntrustedFileError::UntrustedFileError(const fs::path& path)
    : Error(path.string() +
            ": is a TorchScript file, which can run arbitrary code when loaded; it was not "
            "loaded. Load it only if you trust where it came from (CLI: --trust-torchscript; "
            "GUI: confirm when asked)"),
      path_(path) {}

void trustFile(const fs::path& path) {
  const auto id = identify(path);
  if (id.first.empty()) return;
  std::lock_guard<std::mutex> lock(trustMutex());
  trusted()[id.first] = id.second;
}

void trustAllFilesForThisProcess() { gTrustAll = true; }

bool isTrustedFile(const fs::path& path) {
  if (gTrustAll) return true;
  const auto id = identify(path);
  if (id.first.empty()) return false;
  std::lock_guard<std::mutex> lock(trustMutex());
  const auto it = trusted().find(id.first);
  return it != trusted().end() && it->second == id.second;
}

void requireTrustedFile(const fs::path& path) {
  if (!isTrustedFile(path)) throw UntrustedFileError(path);
}

}  // namespace tlab::core
