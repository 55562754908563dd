#pragma once
// Cache of frozen-backbone features in HDF5. When the frozen part of a network sees
// un-augmented inputs its output never changes, so it is computed once and later epochs (and
// later runs) train the head from the cache. Files are keyed by a content hash of the samples,
// labels, each file's size and modification time, backbone, weights file and preprocessing; the
// key is stored inside and checked on open, and a corrupt or mismatching file is a miss
// (recomputed), never an error. A cache file is untrusted: its shapes are checked against the
// samples requested before anything is allocated (at most kMaxFeatureWidth floats per sample)
// and every stored sample index must be one requested. Written to an O_EXCL temp file, fsync'ed,
// then renamed. Not thread-safe per instance; HDF5 access is serialised globally.
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
/// What featureCacheKey's `weightsDigest` names: the weights file's SHA-256, or "random" for no
/// file (random weights).
std::string weightsDigest(const std::filesystem::path& weightsPath);

/// Default location: $XDG_CACHE_HOME/transferlab/features (or ~/.cache/...;
/// TLAB_CACHE_DIR/../features).
std::filesystem::path featureCacheDirectory();

class FeatureCache {
 public:
  explicit FeatureCache(std::filesystem::path directory);
  static constexpr unsigned long long kMaxFeatureWidth = 1 << 16;
  /// The cached features for `key` describing (a subset of) the samples `expected`, or nullopt
  /// (miss; `note` says why when a file was rejected).
  std::optional<CachedFeatures> load(const std::string& key, const std::vector<size_t>& expected,
                                     std::string* note = nullptr) const;
  /// The features of `samples` (any order, any mix of splits) from the entries stored per split
  /// under the keys training uses (featureCacheKey over the whole split's indices; an fp32 entry,
  /// else a bf16 run's "ID@bf16" one), rows in the order of `samples`; nullopt when any sample
  /// is not covered. How the embedding map reuses what a linear probe or the data-issues check
  /// extracted.
  std::optional<CachedFeatures> loadSamples(const Dataset& dataset,
                                            const std::vector<size_t>& samples,
                                            const std::string& backboneId,
                                            const std::string& weightsDigest,
                                            const Preprocess& preprocess) const;
  void store(const std::string& key, const CachedFeatures& features) const;
  std::filesystem::path fileFor(const std::string& key) const;

 private:
  std::filesystem::path directory_;
};

}  // namespace tlab::core
