#pragma once
// What the CLI's predict and explain commands read from their arguments: image paths (folders
// expanded to every image below them, sorted) and the non-blank lines of a text file.
#include <string>
#include <vector>

namespace tlab::cli {

/// Files stay as given; a folder becomes every file with an image extension below it, sorted.
std::vector<std::string> expandImageInputs(const std::vector<std::string>& inputs);

struct TextLine {
  size_t line = 0;  ///< 1-based
  std::string text;
};
/// The lines of `file` that are not blank (a trailing CR removed), with their line numbers.
/// Throws IoError when the file cannot be read.
std::vector<TextLine> nonBlankLines(const std::string& file);

}  // namespace tlab::cli
