#pragma once
// Helpers for the libFuzzer harnesses: the parsers under test read files (as the application
// does), so each input is written to a per-process scratch folder in /dev/shm first.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace tlab::fuzz {

using Target = int (*)(const uint8_t* data, size_t size);
/// Harnesses of the regression runner (tests/fuzz/RegressionMain.cpp), by name.
inline std::vector<std::pair<std::string, Target>>& targets() {
  static std::vector<std::pair<std::string, Target>> t;
  return t;
}
inline bool registerTarget(const char* name, Target target) {
  targets().emplace_back(name, target);
  return true;
}

inline std::filesystem::path scratchDir() {
  static const std::filesystem::path dir = [] {
    const auto base = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                          : std::filesystem::temp_directory_path();
    auto d = base / ("tlab-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path writeInput(const std::string& name, const uint8_t* data, size_t size) {
  const auto path = scratchDir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

}  // namespace tlab::fuzz

// One harness body, built either as libFuzzer's entry point (scripts/fuzz) or, with
// TLAB_FUZZ_REGRESSION, as a named target of the regression runner that CI runs over the seed
// corpora and every crash found so far.
#ifdef TLAB_FUZZ_REGRESSION
#define TLAB_FUZZ_TARGET(name)                                  \
  static int tlabFuzz_##name(const uint8_t* data, size_t size); \
  [[maybe_unused]] static const bool tlabRegistered_##name =    \
      tlab::fuzz::registerTarget(#name, &tlabFuzz_##name);      \
  static int tlabFuzz_##name(const uint8_t* data, size_t size)
#else
#define TLAB_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#endif
