#include <algorithm>
#include <cstring>

#include <opencv2/core.hpp>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

// Budget: the decompressed file is held in memory; at most kMaxIdxBytes, and a gzip file may
// expand at most kMaxGzipExpansion times its size beyond the first kGzipFreeBytes (real IDX
// data compresses 2-5x; a stream of zeros ~1000x). The header's declared size is checked
// (overflow-safe) before the data is read, and the stream stops at that size.
constexpr uint64_t kMaxIdxBytes = 8ULL << 30;
constexpr uint64_t kMaxGzipExpansion = 64;
constexpr uint64_t kGzipFreeBytes = 4ULL << 20;
const char* const kFashionMnistClasses[] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                            "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                            "Bag",         "Ankle boot"};

struct IdxArray {
  std::vector<uint8_t> bytes;  // whole file, header included
  std::vector<uint32_t> dims;
  size_t dataOffset = 0;
};

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// Total bytes (header + data) an IDX header declares; throws when it is malformed or too big.
uint64_t idxDeclaredSize(const uint8_t* b, size_t n, const std::string& path) {
  if (n < 4 || b[0] != 0 || b[1] != 0)
    throw FormatError(path, "not an IDX file (bad magic number)");
  const size_t rank = b[3];
  if (rank == 0 || rank > 4 || n < 4 + 4 * rank) return 0;  // reported by loadIdx
  uint64_t elems = 1;
  for (size_t i = 0; i < rank; ++i) {
    const uint64_t d = be32(b + 4 + 4 * i);
    if (d != 0 && elems > kMaxIdxBytes / d) {
      throw FormatError(path, "IDX dimensions multiply to more than the " +
                                  std::to_string(kMaxIdxBytes) + "-byte limit");
    }
    elems *= d;
  }
  return 4 + 4 * rank + elems;
}

// Validates magic, type (unsigned byte only), rank and that the declared dimensions match the
// file's real length exactly.
IdxArray loadIdx(const fs::path& path, size_t expectedRank) {
  IdxArray a;
  std::error_code ec;
  uint64_t fileBytes = fs::file_size(path, ec);  // a non-regular file is refused by the read
  if (ec) fileBytes = 0;
  const uint64_t cap =
      std::min(kMaxIdxBytes, std::max(kGzipFreeBytes, kMaxGzipExpansion * fileBytes));
  a.bytes = readMaybeGzip(path, cap, GzipHeaderCheck{4 + 4 * 4, &idxDeclaredSize});
  const auto& b = a.bytes;
  if (b.size() < 4 || b[0] != 0 || b[1] != 0) {
    throw FormatError(path.string(), "not an IDX file (bad magic number)");
  }
  if (b[2] != 0x08) {
    throw FormatError(path.string(), "IDX element type 0x" + std::to_string(b[2]) +
                                         " not supported (expected 0x08, unsigned byte)");
  }
  const size_t rank = b[3];
  if (rank != expectedRank) {
    throw FormatError(path.string(), "IDX rank is " + std::to_string(rank) + ", expected " +
                                         std::to_string(expectedRank));
  }
  a.dataOffset = 4 + 4 * rank;
  if (b.size() < a.dataOffset) throw FormatError(path.string(), "truncated IDX header");
  uint64_t elems = 1;
  for (size_t i = 0; i < rank; ++i) {
    a.dims.push_back(be32(b.data() + 4 + 4 * i));
    const uint64_t d = a.dims.back();
    if (d != 0 && elems > kMaxIdxBytes / d) {
      throw FormatError(path.string(), "IDX dimensions are absurdly large");
    }
    elems *= d;
  }
  if (a.dims[0] > kMaxSamples) {
    throw FormatError(path.string(), "IDX file declares " + std::to_string(a.dims[0]) +
                                         " items, more than the " + std::to_string(kMaxSamples) +
                                         "-sample limit");
  }
  const uint64_t actual = b.size() - a.dataOffset;
  if (actual != elems) {
    throw FormatError(path.string(), "IDX header declares " + std::to_string(elems) +
                                         " bytes of data but the file holds " +
                                         std::to_string(actual));
  }
  return a;
}

class IdxStore : public ImageStore {
 public:
  IdxStore(std::vector<uint8_t> pixels, int rows, int cols)
      : pixels_(std::move(pixels)), rows_(rows), cols_(cols) {}
  cv::Mat image(int64_t index) const override {
    const size_t per = size_t(rows_) * size_t(cols_);
    if (index < 0 || size_t(index) >= pixels_.size() / per) {
      throw FormatError("idx", "image index " + std::to_string(index) + " out of range");
    }
    return cv::Mat(rows_, cols_, CV_8UC1, const_cast<uint8_t*>(pixels_.data() + per * index))
        .clone();
  }

 private:
  std::vector<uint8_t> pixels_;
  int rows_, cols_;
};

struct IdxPair {
  fs::path images, labels;
  Split split = Split::None;
};

std::vector<IdxPair> findPairs(const fs::path& path) {
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::directory_iterator(path)) files.push_back(e.path());
  } else {
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  std::vector<IdxPair> pairs;
  for (const auto& f : files) {
    std::string name = f.filename().string();
    const auto img = name.find("images");
    const auto idx3 = name.find("idx3");
    if (img == std::string::npos || idx3 == std::string::npos) continue;
    std::string labelName = name;
    labelName.replace(idx3, 4, "idx1");
    labelName.replace(img, 6, "labels");
    IdxPair p{f, f.parent_path() / labelName, Split::None};
    if (!fs::exists(p.labels))
      throw IoError(p.labels.string(), "label file for " + name + " is missing");
    if (name.rfind("train", 0) == 0) p.split = Split::Train;
    if (name.rfind("t10k", 0) == 0 || name.rfind("test", 0) == 0) p.split = Split::Test;
    if (name.rfind("val", 0) == 0) p.split = Split::Val;
    pairs.push_back(p);
  }
  if (pairs.empty()) throw FormatError(path.string(), "no IDX image files (*images*idx3*) found");
  return pairs;
}

std::vector<std::string> idxClassNames(const fs::path& dir, int maxLabel) {
  std::vector<std::string> names;
  const fs::path listFile = dir / "classes.txt";
  if (fs::exists(listFile)) {
    names = readNonEmptyLines(listFile, 1 << 20);
  } else if (dir.filename().string().find("fashion") != std::string::npos && maxLabel < 10) {
    names.assign(std::begin(kFashionMnistClasses), std::end(kFashionMnistClasses));
  }
  if (names.empty()) {
    for (int i = 0; i <= maxLabel; ++i) names.push_back(std::to_string(i));
  }
  if (int(names.size()) <= maxLabel) {
    throw FormatError(listFile.string(), "lists " + std::to_string(names.size()) +
                                             " classes but labels go up to " +
                                             std::to_string(maxLabel));
  }
  return names;
}

}  // namespace

Dataset readIdx(const fs::path& path) {
  Dataset ds;
  ds.format = "idx";
  ds.modality = Modality::Image;
  ds.source = path;
  std::vector<uint8_t> pixels;
  uint32_t rows = 0, cols = 0;
  int maxLabel = -1;
  for (const auto& pair : findPairs(path)) {
    IdxArray img = loadIdx(pair.images, 3);
    IdxArray lab = loadIdx(pair.labels, 1);
    if (img.dims[0] != lab.dims[0]) {
      throw FormatError(pair.labels.string(), std::to_string(lab.dims[0]) + " labels for " +
                                                  std::to_string(img.dims[0]) + " images in " +
                                                  pair.images.filename().string());
    }
    if (img.dims[1] == 0 || img.dims[2] == 0 || img.dims[1] > 16384 || img.dims[2] > 16384) {
      throw FormatError(pair.images.string(), "IDX image size " + std::to_string(img.dims[1]) +
                                                  "x" + std::to_string(img.dims[2]) +
                                                  " is out of range (1..16384)");
    }
    if (ds.samples.size() + lab.dims[0] > kMaxSamples) {
      throw FormatError(pair.labels.string(),
                        "more than " + std::to_string(kMaxSamples) + " samples in total (limit)");
    }
    if (rows == 0) {
      rows = img.dims[1];
      cols = img.dims[2];
    } else if (rows != img.dims[1] || cols != img.dims[2]) {
      throw FormatError(pair.images.string(), "image size differs from the other IDX files");
    }
    const int64_t base = int64_t(pixels.size() / (size_t(rows) * cols));
    pixels.insert(pixels.end(), img.bytes.begin() + img.dataOffset, img.bytes.end());
    for (uint32_t i = 0; i < lab.dims[0]; ++i) {
      Sample s;
      s.index = base + i;
      s.label = lab.bytes[lab.dataOffset + i];
      s.split = pair.split;
      maxLabel = std::max<int>(maxLabel, s.label);
      ds.samples.push_back(std::move(s));
    }
  }
  if (rows == 0 || cols == 0) throw FormatError(path.string(), "IDX images have zero size");
  ds.classNames = idxClassNames(fs::is_directory(path) ? path : path.parent_path(), maxLabel);
  ds.store = std::make_shared<IdxStore>(std::move(pixels), int(rows), int(cols));
  return ds;
}

}  // namespace tlab::core
