#include "core/util/Json.h"

#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {

int jsonNestingDepth(std::string_view text, int stopAbove) {
  int depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (const char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > stopAbove) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json parseJsonDocument(std::string_view text, const std::string& path,
                                 const std::string& what, int maxDepth) {
  if (jsonNestingDepth(text, maxDepth) > maxDepth) {
    throw FormatError(path, what + " nests deeper than " + std::to_string(maxDepth) +
                                " levels (refused before parsing)");
  }
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) throw FormatError(path, what + " is not valid JSON");
  if (!j.is_object()) throw FormatError(path, what + " is not a JSON object");
  return j;
}

nlohmann::json readJsonFile(const std::string& path, const std::string& what, uint64_t maxBytes) {
  const std::string text = readTextFile(path, maxBytes);
  return parseJsonDocument(text, path, what);
}

std::string jsonSnippet(const nlohmann::json& value, size_t maxChars) {
  // Depth is already capped for parsed documents, so dump() cannot recurse deeply here.
  std::string s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > maxChars) s = s.substr(0, maxChars) + "...";
  return s;
}

}  // namespace tlab::core
