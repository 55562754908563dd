#pragma once
// Minimal, validating ZIP reader for PyTorch checkpoint archives (stored or deflated entries,
// ZIP64 sizes). Every offset and size is checked against the file's real length before use.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tlab::core {

class ZipReader {
 public:
  /// Reads the central directory of `bytes` (the whole file); throws FormatError naming `path`.
  ZipReader(std::string path, const std::vector<uint8_t>& bytes);

  struct Entry {
    std::string name;
    uint16_t method = 0;  ///< 0 stored, 8 deflate
    uint64_t compressedSize = 0, size = 0, localHeaderOffset = 0;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const;
  /// The entry's uncompressed bytes (at most `maxBytes`).
  std::vector<uint8_t> read(const Entry& entry, uint64_t maxBytes) const;

  /// True when the buffer starts with a ZIP local-file signature.
  static bool looksLikeZip(const std::vector<uint8_t>& bytes);

 private:
  std::string path_;
  const std::vector<uint8_t>& bytes_;
  std::vector<Entry> entries_;
};

}  // namespace tlab::core
