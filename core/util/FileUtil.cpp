#include "core/util/FileUtil.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/Errors.h"
#include "core/util/Utf8.h"

namespace tlab::core {
namespace fs = std::filesystem;

std::vector<uint8_t> readFileBytes(const fs::path& path, uint64_t maxBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string(), std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw IoError(path.string(), "cannot determine the file size");
  if (static_cast<uint64_t>(size) > maxBytes) {
    throw IoError(path.string(), "file is " + std::to_string(size) + " bytes, more than the " +
                                     std::to_string(maxBytes) + "-byte limit");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw IoError(path.string(), "read failed");
  }
  return bytes;
}

std::vector<uint8_t> readMaybeGzip(const fs::path& path, uint64_t maxBytes) {
  // gzread passes plain files through unchanged, so one code path serves both.
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) throw IoError(path.string(), std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(gz, 1 << 17);
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(gz, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(gz, &code);
      gzclose(gz);
      throw FormatError(path.string(), "gzip stream is corrupt: " + msg);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > maxBytes) {
      gzclose(gz);
      throw FormatError(path.string(), "decompressed size exceeds the " + std::to_string(maxBytes) +
                                           "-byte limit");
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  // A truncated .gz reads as a short stream with Z_BUF_ERROR; report it instead of using it.
  int code = Z_OK;
  gzerror(gz, &code);
  gzclose(gz);
  if (code != Z_OK && code != Z_STREAM_END) {
    throw FormatError(path.string(), "gzip stream is truncated or corrupt");
  }
  return out;
}

std::string readTextFile(const fs::path& path, uint64_t maxBytes) {
  const auto bytes = readFileBytes(path, maxBytes);
  return std::string(bytes.begin(), bytes.end());
}

std::vector<std::string> readNonEmptyLines(const fs::path& path, uint64_t maxBytes) {
  const std::string text = readTextFile(path, maxBytes);
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

bool isInsideRoot(const fs::path& root, const fs::path& candidate) {
  std::error_code ec;
  const fs::path r = fs::weakly_canonical(root, ec);
  if (ec) return false;
  const fs::path c = fs::weakly_canonical(candidate, ec);
  if (ec) return false;
  auto ri = r.begin();
  auto ci = c.begin();
  for (; ri != r.end(); ++ri, ++ci) {
    if (ri->empty()) continue;  // trailing separator
    if (ci == c.end() || *ri != *ci) return false;
  }
  return true;
}

void writeFileAtomic(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(tmp.string(), std::string("cannot create: ") + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw IoError(tmp.string(), "write failed: " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw IoError(tmp.string(), "fsync/close failed");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw IoError(path.string(), "rename failed: " + why);
  }
}

std::string lowerExtension(const fs::path& path) { return asciiLower(path.extension().string()); }

}  // namespace tlab::core
