#include "core/dataset/Hdf5Dataset.h"

#include "core/dataset/Hdf5Handle.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <opencv2/imgproc.hpp>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {
using hdf5::Handle;
using hdf5::hdf5Mutex;
using hdf5::silenceHdf5;

std::vector<hsize_t> dimsOf(hid_t dset) {
  Handle space(H5Dget_space(dset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

std::vector<std::string> readClassNames(hid_t file, const std::string& path) {
  std::vector<std::string> names;
  if (H5Aexists(file, "class_names") <= 0) return names;
  Handle attr(H5Aopen(file, "class_names", H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw FormatError(path, "attribute class_names is not a string array");
  }
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || n > hssize_t(kMaxClasses))
    throw FormatError(path, "attribute class_names has a bad size");
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> raw(n);
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    if (H5Aread(attr.get(), mem.get(), raw.data()) < 0) {
      throw FormatError(path, "cannot read attribute class_names");
    }
    for (char* s : raw) names.emplace_back(s ? s : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, raw.data());
  } else {
    const size_t len = H5Tget_size(type.get());
    if (len == 0 || len > 4096)
      throw FormatError(path, "attribute class_names: string length out of range");
    std::vector<char> buf(len * n);
    if (H5Aread(attr.get(), type.get(), buf.data()) < 0) {
      throw FormatError(path, "cannot read attribute class_names");
    }
    for (hssize_t i = 0; i < n; ++i) {
      const char* s = buf.data() + i * len;
      names.emplace_back(s, strnlen(s, len));
    }
  }
  return names;
}

class Hdf5Store : public ImageStore {
 public:
  Hdf5Store(std::string path, hid_t file, hid_t images, std::vector<hsize_t> dims)
      : path_(std::move(path)), file_(file, H5Fclose), images_(images, H5Dclose), dims_(dims) {}
  ~Hdf5Store() override {
    std::lock_guard<std::mutex> lock(hdf5Mutex());
    images_.reset();  // close under the lock
    file_.reset();
  }

  cv::Mat image(int64_t index) const override {
    const int h = int(dims_[1]), w = int(dims_[2]);
    const int c = dims_.size() == 4 ? int(dims_[3]) : 1;
    if (index < 0 || hsize_t(index) >= dims_[0]) {
      throw FormatError(path_, "image index " + std::to_string(index) + " out of range");
    }
    cv::Mat img(h, w, CV_8UC(c));
    std::lock_guard<std::mutex> lock(hdf5Mutex());
    Handle fileSpace(H5Dget_space(images_.get()), H5Sclose);
    hsize_t start[4] = {hsize_t(index), 0, 0, 0};
    hsize_t count[4] = {1, dims_[1], dims_[2], dims_.size() == 4 ? dims_[3] : 1};
    H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    Handle memSpace(H5Screate_simple(int(dims_.size()), count, nullptr), H5Sclose);
    if (H5Dread(images_.get(), H5T_NATIVE_UINT8, memSpace.get(), fileSpace.get(), H5P_DEFAULT,
                img.data) < 0) {
      throw FormatError(path_, "cannot read image " + std::to_string(index) + " (corrupt data?)");
    }
    return img;
  }

 private:
  std::string path_;
  Handle file_, images_;
  std::vector<hsize_t> dims_;
};

template <typename T>
std::vector<T> readVector(hid_t file, const char* name, hid_t memType, hsize_t expected,
                          const std::string& path) {
  Handle d(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (!d.valid()) throw FormatError(path, std::string("missing dataset '") + name + "'");
  const auto dims = dimsOf(d.get());
  if (dims.size() != 1 || dims[0] != expected) {
    throw FormatError(path, std::string("dataset '") + name + "' must have shape [" +
                                std::to_string(expected) + "]");
  }
  std::vector<T> v(expected);
  if (expected > 0 && H5Dread(d.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
    throw FormatError(path, std::string("cannot read dataset '") + name + "'");
  }
  return v;
}

}  // namespace

bool looksLikeHdf5(const fs::path& path) {
  // Regular files only: HDF5 itself would block on a FIFO.
  const auto head = readFileHead(path, 8);
  return head.size() == 8 && std::memcmp(head.data(), "\x89HDF\r\n\x1a\n", 8) == 0;
}

namespace {

// The 'images' dataset: uint8, [N,H,W] or [N,H,W,C] with 1 or 3 channels, images of at most
// 16.7 megapixels, at most kMaxSamples of them. Returns its dimensions.
std::vector<hsize_t> checkImages(hid_t images, const std::string& path) {
  {
    Handle type(H5Dget_type(images), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 1) {
      throw FormatError(path, "dataset 'images' must be uint8");
    }
  }
  const auto dims = dimsOf(images);
  if (dims.size() != 3 && dims.size() != 4) {
    throw FormatError(path,
                      "dataset 'images' must have rank 3 [N,H,W] or 4 [N,H,W,C], found rank " +
                          std::to_string(dims.size()));
  }
  if (dims.size() == 4 && dims[3] != 1 && dims[3] != 3) {
    throw FormatError(path, "images must have 1 or 3 channels, found " + std::to_string(dims[3]));
  }
  if (dims[1] == 0 || dims[2] == 0 || dims[1] > 16384 || dims[2] > 16384) {
    throw FormatError(path, "image size " + std::to_string(dims[1]) + "x" +
                                std::to_string(dims[2]) + " is out of range (1..16384)");
  }
  // One image is read into memory at a time: at most 16.7 megapixels (about 50 MB).
  if (dims[1] * dims[2] > (hsize_t(1) << 24)) {
    throw FormatError(path, "images of " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                                " pixels exceed the 16.7-megapixel limit for HDF5 datasets");
  }
  if (dims[0] > kMaxSamples) {
    throw FormatError(path, "dataset 'images' declares " + std::to_string(dims[0]) +
                                " images, more than the " + std::to_string(kMaxSamples) +
                                "-sample limit");
  }
  return dims;
}

// Class names from the file or, without them, "0".."max label"; every label must name one.
void checkLabels(Dataset& ds, const std::vector<int64_t>& labels, const std::string& path) {
  int64_t maxLabel = -1;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) throw FormatError(path, "negative label at index " + std::to_string(i));
    maxLabel = std::max(maxLabel, labels[i]);
  }
  if (maxLabel >= int64_t(kMaxClasses)) {
    throw FormatError(path, "label " + std::to_string(maxLabel) + " exceeds the " +
                                std::to_string(kMaxClasses) + "-class limit");
  }
  if (ds.classNames.empty()) {
    for (int64_t c = 0; c <= maxLabel; ++c) ds.classNames.push_back(std::to_string(c));
  } else if (maxLabel >= int64_t(ds.classNames.size())) {
    throw FormatError(path, "label " + std::to_string(maxLabel) + " but class_names lists only " +
                                std::to_string(ds.classNames.size()) + " classes");
  }
}

}  // namespace

Dataset readHdf5Dataset(const fs::path& fsPath) {
  silenceHdf5();
  const std::string path = fsPath.string();
  if (!looksLikeHdf5(fsPath)) throw FormatError(path, "not an HDF5 file (bad signature)");
  std::lock_guard<std::mutex> lock(hdf5Mutex());
  if (const auto why = hdf5::trialOpen(path); !why.empty()) throw FormatError(path, why);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw FormatError(path, "cannot open as HDF5 (corrupt or truncated file)");
  Handle images(H5Dopen2(file.get(), "images", H5P_DEFAULT), H5Dclose);
  if (!images.valid()) throw FormatError(path, "missing dataset 'images'");
  const auto dims = checkImages(images.get(), path);
  const hsize_t n = dims[0];
  const auto labels = readVector<int64_t>(file.get(), "labels", H5T_NATIVE_INT64, n, path);
  std::vector<uint8_t> splits;
  if (H5Lexists(file.get(), "split", H5P_DEFAULT) > 0) {
    splits = readVector<uint8_t>(file.get(), "split", H5T_NATIVE_UINT8, n, path);
  }
  Dataset ds;
  ds.format = "hdf5";
  ds.modality = Modality::Image;
  ds.source = fsPath;
  ds.classNames = readClassNames(file.get(), path);
  checkLabels(ds, labels, path);
  for (hsize_t i = 0; i < n; ++i) {
    Sample s;
    s.index = int64_t(i);
    s.label = int32_t(labels[i]);
    if (!splits.empty()) {
      if (splits[i] > 3)
        throw FormatError(path, "split value " + std::to_string(splits[i]) + " at index " +
                                    std::to_string(i) + " (expected 0..3)");
      s.split = Split(splits[i]);
    }
    ds.samples.push_back(std::move(s));
  }
  ds.store = std::make_shared<Hdf5Store>(path, file.release(), images.release(), dims);
  return ds;
}

}  // namespace tlab::core
