#pragma once
// Typed exceptions thrown by tlab::core. Messages name the file, the key and what was expected
// versus found, so a user can act on them without a debugger.
#include <atomic>
#include <stdexcept>
#include <string>

namespace tlab::core {

/// Base of every error TransferLab reports to a user.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A file could not be opened, read or written.
class IoError : public Error {
 public:
  IoError(const std::string& path, const std::string& detail)
      : Error(path + ": " + detail), path_(path) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A file was readable but its content is malformed or inconsistent.
class FormatError : public Error {
 public:
  FormatError(const std::string& path, const std::string& detail)
      : Error(path + ": " + detail), path_(path) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A caller passed a value outside the documented contract (bad option, empty dataset, ...).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A long task stopped because its caller set the cancel flag it was given.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

/// Throws Cancelled when `cancel` is set (a null flag never is).
inline void throwIfCancelled(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
}

}  // namespace tlab::core
