// HDF5 datasets and feature-cache files: open, validate, read the first images. The HDF5
// library itself is not instrumented; what is checked is TransferLab's use of it.
#include "FuzzFile.h"
#include "core/Errors.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/train/CachedFeatures.h"
#include "core/train/FeatureCache.h"

TLAB_FUZZ_TARGET(hdf5) {
  using namespace tlab;
  const auto path = fuzz::writeInput("h/d.h5", data, size);
  try {
    const auto ds = core::readHdf5Dataset(path);
    for (size_t i = 0; i < std::min<size_t>(ds.size(), 2); ++i) (void)ds.loadImage(i);
  } catch (const core::Error&) {
  }
  // The same bytes as a feature-cache file (its name is the key's first 32 characters).
  const std::string key(64, 'a');
  fuzz::writeInput("h/" + key.substr(0, 32) + ".h5", data, size);
  (void)core::FeatureCache(fuzz::scratchDir() / "h").load(key, {0, 1, 2});
  return 0;
}
