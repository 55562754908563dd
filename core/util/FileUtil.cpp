#include "core/util/FileUtil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/Errors.h"
#include "core/util/Utf8.h"

namespace tlab::core {
namespace fs = std::filesystem;

int openRegularFile(const fs::path& path, uint64_t* sizeBytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw IoError(path.string(), std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw IoError(path.string(), "cannot stat: " + why);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* what = S_ISDIR(st.st_mode)    ? "a folder"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                                              : "not a regular file";
    throw IoError(path.string(), std::string("is ") + what + ", not a regular file");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  if (sizeBytes) *sizeBytes = uint64_t(st.st_size);
  return fd;
}

namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads up to `size` bytes; returns how many were read (fewer only at end of file).
size_t readUpTo(int fd, uint8_t* out, size_t size, const fs::path& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path.string(), std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) break;
    done += size_t(n);
  }
  return done;
}

}  // namespace

std::vector<uint8_t> readFileBytes(const fs::path& path, uint64_t maxBytes) {
  uint64_t size = 0;
  FdCloser fd{openRegularFile(path, &size)};
  if (size > maxBytes) {
    throw IoError(path.string(), "file is " + std::to_string(size) + " bytes, more than the " +
                                     std::to_string(maxBytes) + "-byte limit");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  const size_t got = readUpTo(fd.fd, bytes.data(), bytes.size(), path);
  if (got != bytes.size()) throw IoError(path.string(), "file shrank while it was read");
  return bytes;
}

std::vector<uint8_t> readFileHead(const fs::path& path, size_t size) {
  FdCloser fd{openRegularFile(path)};
  std::vector<uint8_t> bytes(size);
  bytes.resize(readUpTo(fd.fd, bytes.data(), size, path));
  return bytes;
}

std::string readFirstLine(const fs::path& path, size_t maxBytes) {
  const auto head = readFileHead(path, maxBytes);
  std::string line(head.begin(), std::find(head.begin(), head.end(), uint8_t('\n')));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::vector<uint8_t> readMaybeGzip(const fs::path& path, uint64_t maxBytes,
                                   const GzipHeaderCheck& headerCheck) {
  // gzread passes plain files through unchanged, so one code path serves both.
  const int fd = openRegularFile(path);
  gzFile gz = gzdopen(fd, "rb");
  if (!gz) {
    ::close(fd);
    throw IoError(path.string(), "cannot open as a (gzip) stream");
  }
  gzbuffer(gz, 1 << 17);
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  uint64_t limit = maxBytes;
  bool declared = false;
  for (;;) {
    const int n = gzread(gz, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      std::string msg = gzerror(gz, &code);
      gzclose(gz);
      throw FormatError(path.string(), "gzip stream is corrupt: " + msg);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > limit) {
      gzclose(gz);
      throw FormatError(path.string(), declared ? "holds more data than its header declares (" +
                                                      std::to_string(limit) + " bytes)"
                                                : "decompressed size exceeds the " +
                                                      std::to_string(maxBytes) + "-byte limit");
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    if (!declared && headerCheck.declaredSize && out.size() >= headerCheck.headerBytes) {
      declared = true;
      uint64_t want = 0;
      try {
        want = headerCheck.declaredSize(out.data(), out.size(), path.string());
      } catch (...) {
        gzclose(gz);
        throw;
      }
      if (want > maxBytes) {
        gzclose(gz);
        throw FormatError(path.string(), "header declares " + std::to_string(want) +
                                             " bytes, more than the " + std::to_string(maxBytes) +
                                             "-byte limit");
      }
      if (want > 0) limit = want;
    }
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

void fsyncPath(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

namespace {

// mkstemp beside `target`: the name cannot be predicted or pre-created by someone else.
int makeTemp(const fs::path& target, std::string& name) {
  name = target.string() + ".tmp-XXXXXX";
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0)
    throw IoError(target.string(),
                  std::string("cannot create a temp file beside it: ") + std::strerror(errno));
  ::fchmod(fd, 0644);
  return fd;
}

}  // namespace

fs::path createTempBeside(const fs::path& target) {
  std::string name;
  ::close(makeTemp(target, name));
  return name;
}

void commitTempFile(const fs::path& temp, const fs::path& target) {
  const int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    throw IoError(temp.string(), "fsync failed: " + why);
  }
  ::close(fd);
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    throw IoError(target.string(), "rename failed: " + why);
  }
  fsyncPath(target.has_parent_path() ? target.parent_path() : fs::path("."));
}

void writeFileAtomic(const fs::path& path, const std::string& bytes) {
  std::string tmp;
  const int fd = makeTemp(path, tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw IoError(path.string(), "write failed: " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw IoError(path.string(), "fsync/close failed: " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw IoError(path.string(), "rename failed: " + why);
  }
  fsyncPath(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

std::string lowerExtension(const fs::path& path) { return asciiLower(path.extension().string()); }

}  // namespace tlab::core
