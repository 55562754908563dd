#include "core/util/Json.h"

#include <cmath>
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

namespace {
[[noreturn]] void notAnInteger(const nlohmann::json& v, const std::string& range,
                               const std::string& path, const std::string& field) {
  throw FormatError(path, "field '" + field + "' must be an integer in " + range + " (found " +
                              jsonSnippet(v) + ")");
}
}  // namespace

int64_t jsonInteger(const nlohmann::json& v, int64_t lo, int64_t hi, const std::string& path,
                    const std::string& field) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (hi >= 0 && u <= uint64_t(hi)) return int64_t(u);
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i >= lo && i <= hi) return i;
  } else if (v.is_number_float()) {
    // Compared as doubles before any conversion: 2^63 itself is out of int64's range.
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= double(lo) && d < 9223372036854775808.0 &&
        d <= double(hi)) {
      const auto i = int64_t(d);
      if (i >= lo && i <= hi) return i;
    }
  }
  notAnInteger(v, range, path, field);
}

uint64_t jsonUnsigned(const nlohmann::json& v, uint64_t hi, const std::string& path,
                      const std::string& field) {
  const std::string range = "0.." + std::to_string(hi);
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u <= hi) return u;
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i >= 0 && uint64_t(i) <= hi) return uint64_t(i);
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= 0 && d < 18446744073709551616.0 &&
        d <= double(hi)) {
      const auto u = uint64_t(d);
      if (u <= hi) return u;
    }
  }
  notAnInteger(v, range, path, field);
}

}  // namespace tlab::core
