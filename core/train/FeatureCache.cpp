#include "core/train/FeatureCache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <sstream>
#include <unordered_map>

#include "core/Errors.h"
#include "core/dataset/Hdf5Handle.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/CachedFeatures.h"
#include "core/util/FileUtil.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/Download.h"

namespace tlab::core {
namespace fs = std::filesystem;
using hdf5::Handle;

namespace {

// Size and modification time (ns): a file replaced under the same name changes its key.
std::string fileStamp(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_size) + "@" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

std::string featureCacheKey(const Dataset& ds, const std::vector<size_t>& indices,
                            const std::string& backboneId, const std::string& weightsDigest,
                            const Preprocess& p) {
  std::ostringstream d;
  d << "tlab-features-v2\n"
    << ds.source.string() << " " << fileStamp(ds.source) << "\n"
    << ds.format << "\n"
    << backboneId << "\n";
  d << weightsDigest << "\n";
  d << p.inputSize << " " << p.channels << " " << p.cropFraction;
  for (int c = 0; c < 3; ++c) d << " " << p.mean[c] << " " << p.std[c];
  if (p.tokenizer) {
    d << " wordpiece " << p.tokenizer->vocabFile().string() << " " << p.tokenizer->vocabSize()
      << " " << p.tokenizer->options().lowerCase;
  }
  d << "\n";
  for (size_t i : indices) {
    const Sample& s = ds.samples.at(i);
    d << s.path << "|" << s.index << "|" << s.label << "|";
    if (!s.path.empty()) d << fileStamp(s.path) << "|";         // a replaced file invalidates
    if (ds.modality == Modality::Text) d << sha256Hex(s.text);  // a text edit invalidates
    d << "\n";
  }
  return sha256Hex(d.str());
}

std::string weightsDigest(const std::filesystem::path& weightsPath) {
  return weightsPath.empty() ? std::string("random") : sha256File(weightsPath);
}

fs::path featureCacheDirectory() {
  fs::path dir = weightCacheDirectory().parent_path() / "features";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir;
}

FeatureCache::FeatureCache(fs::path directory) : directory_(std::move(directory)) {
  std::error_code ec;
  fs::create_directories(directory_, ec);
}

fs::path FeatureCache::fileFor(const std::string& key) const {
  return directory_ / (key.substr(0, 32) + ".h5");
}

std::optional<CachedFeatures> FeatureCache::loadSamples(const Dataset& ds,
                                                        const std::vector<size_t>& samples,
                                                        const std::string& backboneId,
                                                        const std::string& weightsDigest,
                                                        const Preprocess& preprocess) const {
  if (samples.empty()) return std::nullopt;
  std::vector<bool> needed(4, false);
  for (size_t s : samples) {
    if (s >= ds.size()) return std::nullopt;
    needed[size_t(ds.samples[s].split)] = true;
  }
  // Where each sample's row is: (entry, row).
  std::unordered_map<size_t, std::pair<size_t, int64_t>> where;
  std::vector<torch::Tensor> entries;
  for (Split split : {Split::Train, Split::Val, Split::Test}) {
    if (!needed[size_t(split)]) continue;
    const std::vector<size_t> idx = ds.indicesOf(split);
    std::optional<CachedFeatures> hit;
    for (const std::string& id : {backboneId, backboneId + "@bf16"}) {
      hit = load(featureCacheKey(ds, idx, id, weightsDigest, preprocess), idx);
      if (hit) break;
    }
    if (!hit) return std::nullopt;
    for (size_t r = 0; r < hit->samples.size(); ++r)
      where[hit->samples[r]] = {entries.size(), int64_t(r)};
    entries.push_back(hit->features.to(torch::kFloat));
  }
  std::vector<int64_t> offsets(entries.size(), 0);
  for (size_t e = 1; e < entries.size(); ++e) offsets[e] = offsets[e - 1] + entries[e - 1].size(0);
  std::vector<int64_t> rows;
  rows.reserve(samples.size());
  for (size_t s : samples) {
    const auto it = where.find(s);
    if (it == where.end()) return std::nullopt;  // e.g. left out when it failed to decode
    rows.push_back(offsets[it->second.first] + it->second.second);
  }
  CachedFeatures out;
  out.features = torch::cat(entries).index_select(0, torch::tensor(rows, torch::kLong));
  out.samples = samples;
  return out;
}

std::optional<CachedFeatures> FeatureCache::load(const std::string& key,
                                                 const std::vector<size_t>& expected,
                                                 std::string* note) const {
  const fs::path path = fileFor(key);
  if (!fs::exists(path)) return std::nullopt;
  auto reject = [&](const std::string& why) -> std::optional<CachedFeatures> {
    if (note) *note = path.string() + ": " + why + "; recomputing";
    return std::nullopt;
  };
  hdf5::silenceHdf5();
  std::lock_guard<std::mutex> lock(hdf5::hdf5Mutex());
  if (const auto why = hdf5::trialOpen(path.string()); !why.empty()) return reject(why);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) return reject("corrupt cache file");
  if (H5Aexists(file.get(), "key") <= 0) return reject("no key attribute");
  {
    Handle attr(H5Aopen(file.get(), "key", H5P_DEFAULT), H5Aclose);
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), 64);
    char stored[65] = {};
    if (H5Aread(attr.get(), type.get(), stored) < 0 ||
        key != std::string(stored, strnlen(stored, 64))) {
      return reject("written for different data (key mismatch)");
    }
  }
  Handle feats(H5Dopen2(file.get(), "features", H5P_DEFAULT), H5Dclose);
  Handle samples(H5Dopen2(file.get(), "samples", H5P_DEFAULT), H5Dclose);
  if (!feats.valid() || !samples.valid()) return reject("missing datasets");
  hsize_t fd[2] = {0, 0}, sd[1] = {0};
  {
    Handle fs1(H5Dget_space(feats.get()), H5Sclose), ss(H5Dget_space(samples.get()), H5Sclose);
    if (H5Sget_simple_extent_ndims(fs1.get()) != 2 || H5Sget_simple_extent_ndims(ss.get()) != 1)
      return reject("bad ranks");
    H5Sget_simple_extent_dims(fs1.get(), fd, nullptr);
    H5Sget_simple_extent_dims(ss.get(), sd, nullptr);
  }
  // Checked before anything is allocated: a cache describes at most the samples it was asked
  // for, with a sane feature width.
  if (fd[0] != sd[0] || fd[1] == 0 || fd[1] > kMaxFeatureWidth)
    return reject("inconsistent shapes");
  if (sd[0] > expected.size()) return reject("more rows than samples requested");
  CachedFeatures out;
  out.features = torch::empty({int64_t(fd[0]), int64_t(fd[1])});
  std::vector<int64_t> idx(sd[0]);
  if ((fd[0] && H5Dread(feats.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                        out.features.data_ptr<float>()) < 0) ||
      (sd[0] &&
       H5Dread(samples.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, idx.data()) < 0)) {
    return reject("unreadable data");
  }
  // Every stored sample index must be one of those requested (so it indexes the dataset).
  std::vector<size_t> allowed(expected);
  std::sort(allowed.begin(), allowed.end());
  for (const int64_t i : idx) {
    if (i < 0 || !std::binary_search(allowed.begin(), allowed.end(), size_t(i)))
      return reject("sample index " + std::to_string(i) + " is not one of the requested samples");
  }
  out.samples.assign(idx.begin(), idx.end());
  return out;
}

void FeatureCache::store(const std::string& key, const CachedFeatures& f) const {
  const fs::path path = fileFor(key);
  const fs::path tmp = createTempBeside(path);
  const auto feats = f.features.to(torch::kFloat).contiguous();
  std::vector<int64_t> idx(f.samples.begin(), f.samples.end());
  hdf5::silenceHdf5();
  {
    std::lock_guard<std::mutex> lock(hdf5::hdf5Mutex());
    Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) throw IoError(tmp.string(), "cannot create feature cache file");
    hsize_t fd[2] = {hsize_t(feats.size(0)), hsize_t(feats.size(1))}, sd[1] = {hsize_t(idx.size())};
    Handle fsp(H5Screate_simple(2, fd, nullptr), H5Sclose),
        ssp(H5Screate_simple(1, sd, nullptr), H5Sclose);
    Handle fds(H5Dcreate2(file.get(), "features", H5T_IEEE_F32LE, fsp.get(), H5P_DEFAULT,
                          H5P_DEFAULT, H5P_DEFAULT),
               H5Dclose);
    Handle sds(H5Dcreate2(file.get(), "samples", H5T_STD_I64LE, ssp.get(), H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT),
               H5Dclose);
    bool ok = fds.valid() && sds.valid();
    if (ok && fd[0])
      ok = H5Dwrite(fds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                    feats.data_ptr<float>()) >= 0;
    if (ok && sd[0])
      ok = H5Dwrite(sds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, idx.data()) >= 0;
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), 64);
    Handle scalar(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attr(H5Acreate2(file.get(), "key", type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    std::string padded = key;
    padded.resize(64, '\0');
    ok = ok && attr.valid() && H5Awrite(attr.get(), type.get(), padded.data()) >= 0;
    if (!ok) {
      fs::remove(tmp);
      throw IoError(tmp.string(), "cannot write feature cache");
    }
  }
  commitTempFile(tmp, path);
}

}  // namespace tlab::core
