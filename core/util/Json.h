#pragma once
// JSON documents read from files (projects, checkpoints, bundles, safetensors headers, run
// configs, the catalog). Budget: memory is the caller's read cap on the text (nlohmann's DOM is
// a small multiple of it); nesting depth is capped at kMaxJsonDepth by a linear scan *before*
// nlohmann builds anything, because copying and printing a DOM recurse once per level.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

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

/// A value for an error message: at most maxChars characters of its dump.
std::string jsonSnippet(const nlohmann::json& value, size_t maxChars = 40);

}  // namespace tlab::core
