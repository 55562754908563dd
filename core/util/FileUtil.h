#pragma once
// Small file helpers shared by every reader and writer. All throw tlab::core::IoError naming the
// file. Untrusted-input rules: only regular files are opened for reading (a FIFO, device or
// socket is refused before it can block or stream forever); every read is capped by a caller's
// byte budget checked against the file's real size before allocating; writes go to a temp file
// created with O_EXCL beside the target, are fsync'ed, renamed, and the folder is fsync'ed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tlab::core {

/// Opens `path` read-only and returns the descriptor, refusing anything that is not a regular
/// file (FIFO, character/block device, socket, directory) without blocking on it. The caller
/// owns the descriptor. `sizeBytes` receives the file's size.
int openRegularFile(const std::filesystem::path& path, uint64_t* sizeBytes = nullptr);

/// Reads a whole file. Refuses files larger than maxBytes (guards against huge allocations).
std::vector<uint8_t> readFileBytes(const std::filesystem::path& path, uint64_t maxBytes);

/// The first `size` bytes of a file (fewer when it is shorter); for signature sniffing.
std::vector<uint8_t> readFileHead(const std::filesystem::path& path, size_t size);

/// The first line of a text file without its line ending, reading at most maxBytes (a file
/// without a newline in its first maxBytes yields those bytes).
std::string readFirstLine(const std::filesystem::path& path, size_t maxBytes);

/// Reads a file that may be gzip-compressed (detected by content, not extension) and returns the
/// decompressed bytes, refusing more than maxBytes of output. `headerCheck`, when given, sees the
/// first `headerBytes` decompressed bytes and returns the exact total size the content declares
/// (0: no opinion); the stream is then refused as soon as it would exceed that size, so a small
/// compressed file cannot expand into a large allocation its header does not justify.
struct GzipHeaderCheck {
  size_t headerBytes = 0;
  uint64_t (*declaredSize)(const uint8_t* header, size_t size, const std::string& path) = nullptr;
};
std::vector<uint8_t> readMaybeGzip(const std::filesystem::path& path, uint64_t maxBytes,
                                   const GzipHeaderCheck& headerCheck = {});

/// Reads a text file as a string (no decoding; see Utf8.h for validation).
std::string readTextFile(const std::filesystem::path& path, uint64_t maxBytes);

/// Non-empty lines of a text file, without line endings (CRLF accepted).
std::vector<std::string> readNonEmptyLines(const std::filesystem::path& path, uint64_t maxBytes);

/// True when `candidate`, after resolving "..", symlinks and relative parts, lies inside `root`.
bool isInsideRoot(const std::filesystem::path& root, const std::filesystem::path& candidate);

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, then rename,
/// so readers never see a half-written file and a crash leaves the previous version intact.
void writeFileAtomic(const std::filesystem::path& path, const std::string& bytes);

/// Creates a new, empty, uniquely named temp file beside `target` (O_EXCL via mkstemp, mode
/// 0644) for writers that fill it through another library (HDF5); returns its path.
std::filesystem::path createTempBeside(const std::filesystem::path& target);
/// fsyncs `temp`, renames it over `target` and fsyncs the folder; removes `temp` on failure.
void commitTempFile(const std::filesystem::path& temp, const std::filesystem::path& target);
/// fsync of a file or folder by path (best effort for folders on file systems without it).
void fsyncPath(const std::filesystem::path& path);

/// Lower-cased extension including the dot (".jpg"), or "" when there is none.
std::string lowerExtension(const std::filesystem::path& path);

}  // namespace tlab::core
