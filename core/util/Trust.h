#pragma once
// The one place that decides whether a file that can run code may be loaded. TorchScript
// archives (a bundle's backbone.pt, an imported backbone) execute code when loaded, so they are
// loaded only after the user trusted that very file: the GUI asks, naming the file and the risk;
// the CLI takes --trust-torchscript for its own invocation. Nothing read from a project, bundle
// or checkpoint can grant trust. A trusted file that changes afterwards (size or modification
// time) is untrusted again. Thread-safe.
#include <filesystem>
#include <string>

#include "core/Errors.h"

namespace tlab::core {

/// Thrown when code-carrying content is about to be loaded from a file nobody trusted.
class UntrustedFileError : public Error {
 public:
  explicit UntrustedFileError(const std::filesystem::path& path);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Trusts `path` as it is now, for the rest of this process.
void trustFile(const std::filesystem::path& path);
/// Trusts every code-carrying file this process loads (the CLI's --trust-torchscript).
void trustAllFilesForThisProcess();
bool isTrustedFile(const std::filesystem::path& path);
/// Throws UntrustedFileError unless isTrustedFile(path).
void requireTrustedFile(const std::filesystem::path& path);

}  // namespace tlab::core
