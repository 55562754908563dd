// Runs every harness over its committed inputs: tests/fuzz/corpus/TARGET/ (seeds) and
// tests/fuzz/crashes/TARGET/ (every finding of scripts/fuzz, kept as a regression test). Built
// with the normal compiler, so CI checks them in the plain and the sanitizer builds.
// Usage: tlab_fuzz_regress FUZZ_DIR
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "FuzzFile.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tlab_fuzz_regress FUZZ_DIR\n";
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path root = argv[1];
  size_t inputs = 0;
  for (const auto& [name, target] : tlab::fuzz::targets()) {
    size_t n = 0;
    for (const char* kind : {"corpus", "crashes"}) {
      const fs::path dir = root / kind / name;
      if (!fs::is_directory(dir)) continue;
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), {});
        target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        ++n;
      }
    }
    std::cout << name << ": " << n << " inputs\n";
    inputs += n;
  }
  std::cout << tlab::fuzz::targets().size() << " harnesses, " << inputs << " inputs, no crash\n";
  return inputs > 0 ? 0 : 1;
}
