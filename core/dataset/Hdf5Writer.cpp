#include <unistd.h>

#include <opencv2/imgproc.hpp>

#include "core/Errors.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/dataset/Hdf5Handle.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;
using hdf5::Handle;

struct Hdf5Writer::Impl {
  fs::path finalPath, tmpPath;
  int64_t count = 0;
  int height, width, channels;
  std::vector<std::string> classNames;
  std::vector<int64_t> labels;
  std::vector<uint8_t> splits;
  Handle file{-1, H5Fclose};
  Handle images{-1, H5Dclose};
  bool closed = false;

  void writeVector(const char* name, hid_t fileType, hid_t memType, const void* data) {
    hsize_t dims[1] = {hsize_t(count)};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle d(
        H5Dcreate2(file.get(), name, fileType, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Dclose);
    if (!d.valid() ||
        (count > 0 && H5Dwrite(d.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)) {
      throw IoError(tmpPath.string(), std::string("cannot write dataset '") + name + "'");
    }
  }

  void writeClassNames() {
    std::vector<const char*> ptrs;
    for (const auto& n : classNames) ptrs.push_back(n.c_str());
    hsize_t dims[1] = {hsize_t(ptrs.size())};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    Handle attr(
        H5Acreate2(file.get(), "class_names", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    if (!attr.valid() || H5Awrite(attr.get(), type.get(), ptrs.data()) < 0) {
      throw IoError(tmpPath.string(), "cannot write attribute class_names");
    }
  }
};

Hdf5Writer::Hdf5Writer(const fs::path& path, int height, int width, int channels,
                       std::vector<std::string> classNames)
    : impl_(std::make_unique<Impl>()) {
  if (height <= 0 || width <= 0 || (channels != 1 && channels != 3)) {
    throw InvalidArgument(path.string() + ": invalid HDF5 dataset shape");
  }
  hdf5::silenceHdf5();
  Impl& m = *impl_;
  m.finalPath = path;
  m.tmpPath = createTempBeside(path);  // O_EXCL: a name nobody else can have prepared
  m.height = height;
  m.width = width;
  m.channels = channels;
  m.classNames = std::move(classNames);
  std::lock_guard<std::mutex> lock(hdf5::hdf5Mutex());
  m.file.reset(H5Fcreate(m.tmpPath.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!m.file.valid()) throw IoError(m.tmpPath.string(), "cannot create HDF5 file");
  hsize_t dims[4] = {0, hsize_t(height), hsize_t(width), hsize_t(channels)};
  hsize_t maxDims[4] = {H5S_UNLIMITED, dims[1], dims[2], dims[3]};
  const int rank = channels == 1 ? 3 : 4;
  Handle space(H5Screate_simple(rank, dims, maxDims), H5Sclose);
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hsize_t chunk[4] = {1, hsize_t(height), hsize_t(width), hsize_t(channels)};
  H5Pset_chunk(plist.get(), rank, chunk);  // one image per chunk: cheap random access
  H5Pset_deflate(plist.get(), 4);
  m.images.reset(H5Dcreate2(m.file.get(), "images", H5T_STD_U8LE, space.get(), H5P_DEFAULT,
                            plist.get(), H5P_DEFAULT));
  if (!m.images.valid()) throw IoError(m.tmpPath.string(), "cannot create dataset 'images'");
}

Hdf5Writer::~Hdf5Writer() {
  if (!impl_ || impl_->closed) return;
  std::lock_guard<std::mutex> lock(hdf5::hdf5Mutex());
  impl_->images.reset();
  impl_->file.reset();
  ::unlink(impl_->tmpPath.c_str());
}

void Hdf5Writer::append(const cv::Mat& image, int32_t label, Split split) {
  Impl& m = *impl_;
  const int64_t index = m.count;
  if (image.rows != m.height || image.cols != m.width || image.channels() != m.channels ||
      image.depth() != CV_8U) {
    throw InvalidArgument("Hdf5Writer: image " + std::to_string(index) + " has the wrong shape");
  }
  if (label < 0 || size_t(label) >= m.classNames.size()) {
    throw InvalidArgument("Hdf5Writer: label " + std::to_string(label) + " out of range");
  }
  const cv::Mat contiguous = image.isContinuous() ? image : image.clone();
  std::lock_guard<std::mutex> lock(hdf5::hdf5Mutex());
  const int rank = m.channels == 1 ? 3 : 4;
  hsize_t extent[4] = {hsize_t(index + 1), hsize_t(m.height), hsize_t(m.width),
                       hsize_t(m.channels)};
  if (H5Dset_extent(m.images.get(), extent) < 0) {
    throw IoError(m.tmpPath.string(), "cannot grow dataset 'images'");
  }
  Handle fileSpace(H5Dget_space(m.images.get()), H5Sclose);
  hsize_t start[4] = {hsize_t(index), 0, 0, 0};
  hsize_t count[4] = {1, hsize_t(m.height), hsize_t(m.width), hsize_t(m.channels)};
  H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  Handle memSpace(H5Screate_simple(rank, count, nullptr), H5Sclose);
  if (H5Dwrite(m.images.get(), H5T_NATIVE_UINT8, memSpace.get(), fileSpace.get(), H5P_DEFAULT,
               contiguous.data) < 0) {
    throw IoError(m.tmpPath.string(), "cannot write image " + std::to_string(index));
  }
  m.labels.push_back(label);
  m.splits.push_back(uint8_t(split));
  m.count = index + 1;
}

void Hdf5Writer::close() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(hdf5::hdf5Mutex());
    m.writeVector("labels", H5T_STD_I64LE, H5T_NATIVE_INT64, m.labels.data());
    m.writeVector("split", H5T_STD_U8LE, H5T_NATIVE_UINT8, m.splits.data());
    m.writeClassNames();
    m.images.reset();
    if (H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL) < 0) {
      throw IoError(m.tmpPath.string(), "flush failed");
    }
    m.file.reset();
  }
  commitTempFile(m.tmpPath, m.finalPath);  // fsync, rename, fsync the folder
  m.closed = true;
}

std::vector<SkippedItem> exportToHdf5(const Dataset& source, const std::vector<size_t>& indices,
                                      const fs::path& path, int height, int width, int channels) {
  std::vector<SkippedItem> skipped;
  Hdf5Writer writer(path, height, width, channels, source.classNames);
  for (size_t i : indices) {
    DecodedImage img = source.loadImage(i);
    if (!img.ok()) {
      skipped.push_back({source.samples[i].path, 0, img.error});
      continue;
    }
    cv::Mat m = img.pixels;
    if (m.channels() != channels) {
      cv::cvtColor(m, m, channels == 1 ? cv::COLOR_RGB2GRAY : cv::COLOR_GRAY2RGB);
    }
    if (m.rows != height || m.cols != width) {
      cv::resize(m, m, cv::Size(width, height), 0, 0, cv::INTER_AREA);
    }
    writer.append(m, source.samples[i].label, source.samples[i].split);
  }
  writer.close();
  return skipped;
}

}  // namespace tlab::core
