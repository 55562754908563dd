#pragma once
// HTTP(S) download into a file with progress, cancellation, resume and checksum:
// data goes to "<target>.part" (resumed with a Range request when one is left from an earlier
// attempt), is verified against the expected SHA-256 (full digest or published prefix), and only
// then renamed to `target`. A failed or cancelled download never leaves a file under `target`.
// Blocking; call from a worker thread. Thread-safe (no shared state).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace tlab::core {

struct DownloadOptions {
  std::string expectedSha256;      ///< hex; a shorter string is compared as a prefix; "" = no check
  uint64_t maxBytes = 2ULL << 30;  ///< the transfer is aborted once the file would exceed this
  long maxRedirects = 5;           ///< http(s) redirects only
  /// (bytes so far, total or -1 when unknown). Called on the downloading thread.
  std::function<void(int64_t, int64_t)> progress;
  const std::atomic<bool>* cancel = nullptr;
  long connectTimeoutSeconds = 15;
  long lowSpeedTimeoutSeconds = 30;  ///< abort when under 1 KiB/s for this long
};

/// Throws IoError (network, HTTP status, cancelled) or FormatError (checksum mismatch), both
/// naming the URL.
void downloadFile(const std::string& url, const std::filesystem::path& target,
                  const DownloadOptions& options = {});

/// Lower-case hex SHA-256 of bytes in memory.
std::string sha256Hex(const std::string& bytes);
/// Lower-case hex SHA-256 of a file.
std::string sha256File(const std::filesystem::path& path);
/// True when `actual` equals `expected`, or starts with it when `expected` is a prefix.
bool sha256Matches(const std::string& actual, const std::string& expected);

}  // namespace tlab::core
