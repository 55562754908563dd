#include "core/dataset/ImageVerifier.h"

#include <thread>

#include "core/image/ImageDecoder.h"

namespace tlab::core {

size_t verifyImages(Dataset& ds, const VerifyOptions& options) {
  if (ds.modality != Modality::Image) return 0;
  std::vector<size_t> files;
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    if (ds.samples[i].index < 0) files.push_back(i);
  }
  if (files.empty()) return 0;
  std::vector<std::string> errors(files.size());
  std::atomic<size_t> next{0}, done{0};
  auto work = [&] {
    for (size_t k = next++; k < files.size(); k = next++) {
      if (options.cancel && options.cancel->load()) return;
      try {  // decodeImageFile reports errors itself; this guards the thread against the rest
        const DecodedImage img = decodeImageFile(ds.samples[files[k]].path, DecodeScale::Eighth);
        if (!img.ok()) errors[k] = img.error.empty() ? "could not decode" : img.error;
      } catch (const std::exception& e) {
        errors[k] = std::string("could not decode: ") + e.what();
      }
      const size_t d = ++done;
      if (options.progress) options.progress(d, files.size());
    }
  };
  unsigned n =
      options.threads > 0 ? unsigned(options.threads) : std::thread::hardware_concurrency();
  n = std::max(1u, std::min<unsigned>(n, unsigned(files.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (options.cancel && options.cancel->load()) return 0;

  std::vector<bool> bad(ds.samples.size(), false);
  size_t removed = 0;
  for (size_t k = 0; k < files.size(); ++k) {
    if (errors[k].empty()) continue;
    bad[files[k]] = true;
    ds.skipped.push_back({ds.samples[files[k]].path, 0, errors[k]});
    ++removed;
  }
  std::vector<Sample> kept;
  kept.reserve(ds.samples.size() - removed);
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    if (!bad[i]) kept.push_back(std::move(ds.samples[i]));
  }
  ds.samples = std::move(kept);
  return removed;
}

}  // namespace tlab::core
