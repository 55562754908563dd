#pragma once
// Cache of frozen-backbone features in HDF5. When the frozen part of a network sees
// un-augmented inputs its output never changes, so it is computed once and later epochs (and
// later runs) train the head from the cache. Files are keyed by a content hash of the samples,
// labels, backbone, weights file and preprocessing; the key is stored inside and checked on open,
// and a corrupt or mismatching file is a miss (recomputed), never an error. Written to a temp
// file, then renamed. Not thread-safe per instance; HDF5 access is serialised globally.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/data/Transforms.h"
#include "core/dataset/Dataset.h"

namespace at {
class Tensor;
}

namespace tlab::core {

struct CachedFeatures;

/// SHA-256 over a canonical description of what the features depend on; `weightsDigest` is the
/// weights file's SHA-256 (or "random"), computed once by the caller for all splits.
std::string featureCacheKey(const Dataset& dataset, const std::vector<size_t>& indices,
                            const std::string& backboneId, const std::string& weightsDigest,
                            const Preprocess& preprocess);

/// Default location: $XDG_CACHE_HOME/transferlab/features (or ~/.cache/...;
/// TLAB_CACHE_DIR/../features).
std::filesystem::path featureCacheDirectory();

class FeatureCache {
 public:
  explicit FeatureCache(std::filesystem::path directory);
  /// The cached features for `key`, or nullopt (miss; `note` says why when a file was rejected).
  std::optional<CachedFeatures> load(const std::string& key, std::string* note = nullptr) const;
  void store(const std::string& key, const CachedFeatures& features) const;
  std::filesystem::path fileFor(const std::string& key) const;

 private:
  std::filesystem::path directory_;
};

}  // namespace tlab::core
