#include "core/weights/ZipReader.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/Errors.h"

namespace tlab::core {
namespace {

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct Directory {
  uint64_t count = 0, size = 0, offset = 0;
};

// The end-of-central-directory record (ZIP64 when its fields overflow): where the directory is.
Directory locateDirectory(const std::string& path, const std::vector<uint8_t>& bytes) {
  const size_t n = bytes.size();
  if (n < 22) throw FormatError(path, "truncated ZIP archive (no end-of-directory record)");
  // End-of-central-directory record: within the last 64 KiB + 22 bytes (comment limit).
  size_t eocd = std::string::npos;
  for (size_t i = n - 22 + 1; i-- > (n > 65557 ? n - 65557 : 0);) {
    if (le(&bytes[i], 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos)
    throw FormatError(path, "truncated ZIP archive (no end-of-directory record)");
  Directory d{le(&bytes[eocd + 10], 2), le(&bytes[eocd + 12], 4), le(&bytes[eocd + 16], 4)};
  if (d.offset == 0xFFFFFFFF || d.count == 0xFFFF) {  // ZIP64: locator just before the EOCD
    if (eocd < 20 || le(&bytes[eocd - 20], 4) != 0x07064b50)
      throw FormatError(path, "corrupt ZIP64 locator");
    const uint64_t z64 = le(&bytes[eocd - 20 + 8], 8);
    if (z64 > n || n - z64 < 56 || le(&bytes[z64], 4) != 0x06064b50)
      throw FormatError(path, "corrupt ZIP64 directory record");
    d = {le(&bytes[z64 + 32], 8), le(&bytes[z64 + 40], 8), le(&bytes[z64 + 48], 8)};
  }
  if (d.offset > n || d.size > n - d.offset)
    throw FormatError(path, "ZIP central directory lies outside the file");
  if (d.count > d.size / 46)
    throw FormatError(path, "ZIP entry count does not fit the central directory");
  return d;
}

// ZIP64 extra field (id 1) in [from, to): the 0xFFFFFFFF fields of `e`, in order.
void applyZip64Extra(const std::vector<uint8_t>& bytes, size_t from, size_t to,
                     ZipReader::Entry& e) {
  for (size_t x = from; x + 4 <= to;) {
    const uint64_t id = le(&bytes[x], 2), len = le(&bytes[x + 2], 2);
    if (x + 4 + len > to) break;
    if (id == 1) {
      size_t f = x + 4;
      for (uint64_t* field : {&e.size, &e.compressedSize, &e.localHeaderOffset}) {
        if (*field == 0xFFFFFFFF && f + 8 <= x + 4 + len) {
          *field = le(&bytes[f], 8);
          f += 8;
        }
      }
    }
    x += 4 + len;
  }
}

// Raw deflate of `e` from `in`, in chunks: the output grows with what really comes out (never
// zero-filled to the declared size up front), and more than declared is refused at once.
std::vector<uint8_t> inflateEntry(const std::string& path, const ZipReader::Entry& e,
                                  const uint8_t* in) {
  std::vector<uint8_t> out;
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw FormatError(path, "zlib initialisation failed");
  uint64_t inLeft = e.compressedSize;
  int rc = Z_OK;
  std::vector<uint8_t> chunk(1 << 16);
  while (rc != Z_STREAM_END) {
    if (zs.avail_in == 0) {
      const uInt take = uInt(std::min<uint64_t>(inLeft, 1u << 30));
      zs.next_in = const_cast<uint8_t*>(in);
      zs.avail_in = take;
      in += take;
      inLeft -= take;
    }
    zs.next_out = chunk.data();
    zs.avail_out = uInt(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    const size_t got = chunk.size() - zs.avail_out;
    if ((rc != Z_OK && rc != Z_STREAM_END) ||
        (got == 0 && zs.avail_in == 0 && inLeft == 0 && rc != Z_STREAM_END) ||
        out.size() + got > e.size) {
      inflateEnd(&zs);
      throw FormatError(path,
                        "entry '" + e.name + "': corrupt deflate data or wrong declared size");
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + long(got));
  }
  inflateEnd(&zs);
  if (out.size() != e.size)
    throw FormatError(path, "entry '" + e.name + "': corrupt deflate data or wrong declared size");
  return out;
}

}  // namespace

bool ZipReader::looksLikeZip(const std::vector<uint8_t>& b) {
  return b.size() >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

ZipReader::ZipReader(std::string path, const std::vector<uint8_t>& bytes)
    : path_(std::move(path)), bytes_(bytes) {
  const Directory d = locateDirectory(path_, bytes);
  size_t pos = d.offset;
  const size_t cdEnd = d.offset + d.size;  // <= the file size, checked by locateDirectory
  for (uint64_t k = 0; k < d.count; ++k) {
    if (cdEnd - pos < 46 || le(&bytes[pos], 4) != 0x02014b50) {
      throw FormatError(path_, "corrupt ZIP central directory entry " + std::to_string(k));
    }
    Entry e;
    e.method = uint16_t(le(&bytes[pos + 10], 2));
    e.compressedSize = le(&bytes[pos + 20], 4);
    e.size = le(&bytes[pos + 24], 4);
    const size_t nameLen = le(&bytes[pos + 28], 2), extraLen = le(&bytes[pos + 30], 2),
                 commentLen = le(&bytes[pos + 32], 2);
    e.localHeaderOffset = le(&bytes[pos + 42], 4);
    if (46 + nameLen + extraLen + commentLen > cdEnd - pos)
      throw FormatError(path_, "corrupt ZIP entry name");
    e.name.assign(reinterpret_cast<const char*>(&bytes[pos + 46]), nameLen);
    applyZip64Extra(bytes, pos + 46 + nameLen, pos + 46 + nameLen + extraLen, e);
    entries_.push_back(std::move(e));
    pos += 46 + nameLen + extraLen + commentLen;
  }
}

const ZipReader::Entry* ZipReader::find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<uint8_t> ZipReader::read(const Entry& e, uint64_t maxBytes) const {
  const size_t n = bytes_.size();
  const uint64_t h = e.localHeaderOffset;
  if (h > n || n - h < 30 || le(&bytes_[h], 4) != 0x04034b50) {
    throw FormatError(path_, "entry '" + e.name + "': local header lies outside the file");
  }
  const uint64_t start =
      h + 30 + le(&bytes_[h + 26], 2) + le(&bytes_[h + 28], 2);  // h <= n: no wrap
  if (start > n || e.compressedSize > n - start) {
    throw FormatError(path_, "entry '" + e.name + "' is truncated (" +
                                 std::to_string(e.compressedSize) + " bytes declared, " +
                                 std::to_string(start > n ? 0 : n - start) + " present)");
  }
  if (e.size > maxBytes) throw FormatError(path_, "entry '" + e.name + "' is larger than allowed");
  // Deflate cannot expand more than ~1032:1; a larger declared size is a lie or a bomb.
  if (e.method == 8 && e.size / 1032 > e.compressedSize + 64) {
    throw FormatError(path_, "entry '" + e.name + "' declares " + std::to_string(e.size) +
                                 " bytes from " + std::to_string(e.compressedSize) +
                                 " compressed bytes (impossible ratio)");
  }
  if (e.method == 0) {
    if (e.size != e.compressedSize)
      throw FormatError(path_, "entry '" + e.name + "': stored sizes disagree");
    return std::vector<uint8_t>(bytes_.begin() + start, bytes_.begin() + start + e.size);
  }
  if (e.method != 8)
    throw FormatError(path_, "entry '" + e.name + "': unsupported compression method " +
                                 std::to_string(e.method));
  return inflateEntry(path_, e, &bytes_[start]);
}

}  // namespace tlab::core
