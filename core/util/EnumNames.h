#pragma once
// One name table per enum: the names a file, the CLI or the GUI uses for each value, written
// once. name() and parse() both read it, so they cannot disagree, and parse() refuses an
// unknown name (naming what it expected) instead of falling back to a default.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/Errors.h"

namespace tlab::core {

template <typename E, size_t N>
struct NameTable {
  std::array<std::pair<E, const char*>, N> entries;

  const char* name(E value) const {
    for (const auto& [e, n] : entries)
      if (e == value) return n;
    return "unknown";
  }
  std::optional<E> find(std::string_view name) const {
    for (const auto& [e, n] : entries)
      if (name == n) return e;
    return std::nullopt;
  }
  /// Every name, in the table's order (for a CLI's choices, a combo box).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : entries) out.emplace_back(entry.second);
    return out;
  }
  /// "a, b or c"
  std::string expected() const {
    std::string s;
    for (size_t i = 0; i < N; ++i) {
      if (i > 0) s += i + 1 == N ? " or " : ", ";
      s += entries[i].second;
    }
    return s;
  }
  /// Throws InvalidArgument "unknown <what> 'x' (expected a, b or c)".
  E parse(std::string_view name, const char* what) const {
    if (auto e = find(name)) return *e;
    throw InvalidArgument("unknown " + std::string(what) + " '" + std::string(name) +
                          "' (expected " + expected() + ")");
  }
};

template <typename E, typename... Rest>
constexpr auto makeNameTable(std::pair<E, const char*> first, Rest... rest) {
  return NameTable<E, 1 + sizeof...(Rest)>{{{first, rest...}}};
}

}  // namespace tlab::core
