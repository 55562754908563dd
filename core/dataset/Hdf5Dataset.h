#pragma once
// HDF5 image datasets. Layout (all at the file's root):
//   images       uint8  [N, H, W] or [N, H, W, C] with C = 1 or 3 (RGB)
//   labels       integer [N], values in [0, number of classes)
//   split        uint8  [N] (optional): 0 none, 1 train, 2 val, 3 test
//   attribute class_names on the root: string array (optional; "0".."K-1" when absent)
// Reading validates ranks, shapes and label ranges before any pixel is read; pixels are read
// one image at a time (the HDF5 library is serialised behind a mutex). The file is first tried
// in a child process with a deadline (hdf5::trialOpen): libhdf5 can loop forever on a crafted file.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/dataset/Dataset.h"

namespace tlab::core {

Dataset readHdf5Dataset(const std::filesystem::path& path);

/// True when the file starts with the HDF5 signature.
bool looksLikeHdf5(const std::filesystem::path& path);

/// Writes images of one fixed size, appended one by one. The file appears under `path` only
/// after close() succeeds (written to a temporary name, then renamed). Not thread-safe.
class Hdf5Writer {
 public:
  Hdf5Writer(const std::filesystem::path& path, int height, int width, int channels,
             std::vector<std::string> classNames);
  ~Hdf5Writer();  ///< discards the temporary file when close() was not called
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  /// `image` must be 8-bit with the declared size and channel count.
  void append(const cv::Mat& image, int32_t label, Split split);
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Exports `indices` of `source`, each image resized to height x width with `channels` channels.
/// Samples that fail to decode are left out and returned as skipped items.
std::vector<SkippedItem> exportToHdf5(const Dataset& source, const std::vector<size_t>& indices,
                                      const std::filesystem::path& path, int height, int width,
                                      int channels);

}  // namespace tlab::core
