#pragma once
// Turns a catalog id into a ready network: architecture built, pre-trained weights resolved
// (bundled, cached, or downloaded with checksum) and loaded with a report of every key that did
// not match. TorchScript import lives here too: it runs arbitrary code, so only load files you
// trust.
#include <filesystem>
#include <string>

#include "core/model/ImageClassifier.h"
#include "core/weights/StateDict.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/Download.h"

namespace torch::jit {
struct Module;
}

namespace tlab::core {

struct BackboneLoadOptions {
  std::filesystem::path weightsOverride;  ///< load this file instead of the catalog's weights
  bool allowDownload = true;
  DownloadOptions download;
};

struct LoadedBackbone {
  BackboneEntry entry;
  ImageClassifier net;
  std::filesystem::path weightsPath;  ///< empty: random initialisation
  LoadReport report;
};

/// Local path of an entry's weights: bundled file, cache hit, or a download into the cache.
/// Throws IoError explaining how to get the file when it is not available.
std::filesystem::path resolveWeights(const BackboneCatalog& catalog, const BackboneEntry& entry,
                                     bool allowDownload, const DownloadOptions& download = {});
/// True when resolveWeights() would succeed without the network.
bool weightsAvailableOffline(const BackboneCatalog& catalog, const BackboneEntry& entry);

/// Builds and loads a catalog backbone with its original head. Throws FormatError when the
/// weights file does not fit the architecture (every mismatch listed).
LoadedBackbone loadBackbone(const BackboneCatalog& catalog, const std::string& id,
                            const BackboneLoadOptions& options = {});

/// Loads a TorchScript file. TorchScript can run arbitrary code, so this throws
/// UntrustedFileError (core/util/Trust.h) unless the user trusted this file.
torch::jit::Module loadTorchScript(const std::filesystem::path& path);

}  // namespace tlab::core
