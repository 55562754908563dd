#pragma once
// Small file helpers shared by the dataset readers. All throw tlab::core::IoError naming the file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tlab::core {

/// Reads a whole file. Refuses files larger than maxBytes (guards against huge allocations).
std::vector<uint8_t> readFileBytes(const std::filesystem::path& path, uint64_t maxBytes);

/// Reads a file that may be gzip-compressed (detected by content, not extension) and returns the
/// decompressed bytes, refusing more than maxBytes of output.
std::vector<uint8_t> readMaybeGzip(const std::filesystem::path& path, uint64_t maxBytes);

/// Reads a text file as a string (no decoding; see Utf8.h for validation).
std::string readTextFile(const std::filesystem::path& path, uint64_t maxBytes);

/// Non-empty lines of a text file, without line endings (CRLF accepted).
std::vector<std::string> readNonEmptyLines(const std::filesystem::path& path, uint64_t maxBytes);

/// True when `candidate`, after resolving "..", symlinks and relative parts, lies inside `root`.
bool isInsideRoot(const std::filesystem::path& root, const std::filesystem::path& candidate);

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, then rename,
/// so readers never see a half-written file and a crash leaves the previous version intact.
void writeFileAtomic(const std::filesystem::path& path, const std::string& bytes);

/// Lower-cased extension including the dot (".jpg"), or "" when there is none.
std::string lowerExtension(const std::filesystem::path& path);

}  // namespace tlab::core
