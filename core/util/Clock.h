#pragma once
// The current time as text, in UTC, for what TransferLab writes (run files, reports).
#include <ctime>
#include <string>

namespace tlab::core {

/// Now in UTC, formatted by strftime (default: ISO 8601, "2026-12-03T04:05:06Z").
inline std::string utcNow(const char* strftimeFormat = "%Y-%m-%dT%H:%M:%SZ") {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"  // the callers' formats are literals
  const size_t n = std::strftime(buf, sizeof buf, strftimeFormat, &tm);
#pragma GCC diagnostic pop
  return std::string(buf, n);
}

}  // namespace tlab::core
