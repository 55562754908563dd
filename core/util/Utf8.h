#pragma once
#include <string>
#include <string_view>

namespace tlab::core {

/// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool isValidUtf8(std::string_view text);

/// Lower-cases ASCII letters only (bytes of multi-byte UTF-8 sequences are left alone).
std::string asciiLower(std::string text);

/// Strips a leading UTF-8 byte-order mark, if present.
std::string_view stripBom(std::string_view text);

}  // namespace tlab::core
