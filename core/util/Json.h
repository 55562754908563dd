#pragma once
// JSON documents read from files (projects, checkpoints, bundles, safetensors headers, run
// configs, the catalog). Budget: memory is the caller's read cap on the text (nlohmann's DOM is
// a small multiple of it); nesting depth is capped at kMaxJsonDepth by a linear scan *before*
// nlohmann builds anything, because copying and printing a DOM recurse once per level.
#include <cstdint>
#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <type_traits>

namespace tlab::core {

constexpr int kMaxJsonDepth = 64;

/// Parses `text`; throws FormatError naming `path` when it is not JSON, nests deeper than
/// `maxDepth`, or (with `what`) is not an object: "<path>: <what> is not valid JSON (...)".
nlohmann::json parseJsonDocument(std::string_view text, const std::string& path,
                                 const std::string& what, int maxDepth = kMaxJsonDepth);

/// Reads and parses a JSON object file of at most maxBytes (see parseJsonDocument).
nlohmann::json readJsonFile(const std::string& path, const std::string& what, uint64_t maxBytes);

/// The deepest nesting of arrays/objects in `text` (strings skipped), stopping once it exceeds
/// `stopAbove`; linear time, no allocation.
int jsonNestingDepth(std::string_view text, int stopAbove);

/// An integer field of a document: a JSON integer, or a number with an integral value, in
/// [lo, hi]; otherwise FormatError "<path>: field '<field>' must be an integer in lo..hi (found
/// <snippet>)". nlohmann's own get<int>() converts a float with static_cast, which is undefined
/// behaviour when it is out of range (5.5e23 read as a seed; found by fuzzing), so every integer
/// read from a file goes through here.
int64_t jsonInteger(const nlohmann::json& v, int64_t lo, int64_t hi, const std::string& path,
                    const std::string& field);
uint64_t jsonUnsigned(const nlohmann::json& v, uint64_t hi, const std::string& path,
                      const std::string& field);

/// jsonInteger/jsonUnsigned over the whole range of T.
template <typename T>
T jsonIntegerAs(const nlohmann::json& v, const std::string& path, const std::string& field) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if constexpr (std::is_unsigned_v<T>) {
    return T(jsonUnsigned(v, std::numeric_limits<T>::max(), path, field));
  } else {
    return T(
        jsonInteger(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), path, field));
  }
}

/// A value for an error message: at most maxChars characters of its dump.
std::string jsonSnippet(const nlohmann::json& value, size_t maxChars = 40);

}  // namespace tlab::core
