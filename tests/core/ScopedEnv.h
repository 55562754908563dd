#pragma once
// Sets an environment variable for one scope and puts the old value (or its absence) back, so
// a test that points TransferLab somewhere else (TLAB_CACHE_DIR, TLAB_RESOURCE_DIR) cannot leak
// that into the tests after it.
#include <cstdlib>
#include <optional>
#include <string>

#include "core/TestImages.h"

namespace tlab::test {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

/// Points the weight and feature caches (TLAB_CACHE_DIR) at a fresh folder for one test.
struct ScopedCache {
  TempDir dir;
  ScopedEnv env{"TLAB_CACHE_DIR", (dir / "weights").string()};
};

}  // namespace tlab::test
