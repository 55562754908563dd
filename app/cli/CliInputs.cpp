#include "app/cli/CliInputs.h"

#include <algorithm>
#include <filesystem>

#include "core/image/ImageDecoder.h"
#include "core/util/FileUtil.h"

namespace tlab::cli {
namespace fs = std::filesystem;

std::vector<std::string> expandImageInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& p : inputs) {
    if (!fs::is_directory(p)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(p)) {
      if (e.is_regular_file() && core::hasImageExtension(e.path()))
        found.push_back(e.path().string());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::vector<TextLine> nonBlankLines(const std::string& file) {
  const std::string content = core::readTextFile(file, 1ULL << 30);
  std::vector<TextLine> out;
  size_t start = 0, line = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string text = content.substr(start, end - start);
    start = end + 1;
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    out.push_back({line, std::move(text)});
  }
  return out;
}

}  // namespace tlab::cli
