// The trial open of an HDF5 file in a child process (see trialOpen in Hdf5Handle.h).
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/dataset/Hdf5Handle.h"
#include "core/util/Isolated.h"

namespace tlab::core::hdf5 {
namespace {

constexpr hsize_t kWholeReadBytes = hsize_t(64) << 20;
constexpr int kMaxRank = 8;
constexpr hsize_t kMaxRootObjects = 256;
// The child reads at most a few 64 MiB selections; more than this is the library running away.
constexpr uint64_t kMemoryCap = uint64_t(1) << 30;
constexpr uint64_t kMemoryGrowthLimit = uint64_t(512) << 20;

// Reads `count` elements of `type` through `space` and frees what variable-length types
// allocated. Only ever called in the child.
void readSelection(hid_t obj, bool attribute, hid_t fileType, hid_t fileSpace, hsize_t count) {
  Handle mem(H5Tget_native_type(fileType, H5T_DIR_DEFAULT), H5Tclose);
  if (!mem.valid()) return;
  const size_t elem = H5Tget_size(mem.get());
  if (elem == 0 || count == 0 || count * elem > kWholeReadBytes) return;
  std::vector<unsigned char> buf(count * elem);
  Handle memSpace(H5Screate_simple(1, &count, nullptr), H5Sclose);
  const herr_t r =
      attribute ? H5Aread(obj, mem.get(), buf.data())
                : H5Dread(obj, mem.get(), memSpace.get(), fileSpace, H5P_DEFAULT, buf.data());
  if (r >= 0 && H5Tdetect_class(mem.get(), H5T_VLEN) > 0) {
    H5Dvlen_reclaim(mem.get(), attribute ? fileSpace : memSpace.get(), H5P_DEFAULT, buf.data());
  }
}

herr_t probeAttribute(hid_t loc, const char* name, const H5A_info_t*, void*) {
  Handle attr(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) return 0;
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (type.valid() && n > 0) readSelection(attr.get(), true, type.get(), space.get(), hsize_t(n));
  return 0;
}

void probeDataset(hid_t file, const char* name) {
  Handle d(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (!d.valid()) return;
  H5Aiterate2(d.get(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, probeAttribute, nullptr);
  Handle type(H5Dget_type(d.get()), H5Tclose);
  Handle space(H5Dget_space(d.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (!type.valid() || rank < 0 || rank > kMaxRank) return;
  hsize_t dims[kMaxRank] = {};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  const size_t elem = H5Tget_size(type.get());
  if (n <= 0 || elem == 0) return;
  if (rank <= 1 && hsize_t(n) <= kWholeReadBytes / elem) {  // labels, splits, sample ids
    readSelection(d.get(), false, type.get(), H5S_ALL, hsize_t(n));
    return;
  }
  // Images, features: the first and the last row along the first dimension (the chunk index at
  // both ends). Reading them all would take seconds (70,000 gzip chunks for Fashion-MNIST).
  const hsize_t row = hsize_t(n) / dims[0];
  for (const hsize_t at : {hsize_t(0), dims[0] - 1}) {
    hsize_t start[kMaxRank] = {}, count[kMaxRank];
    std::memcpy(count, dims, sizeof dims);
    start[0] = at;
    count[0] = 1;
    Handle sel(H5Scopy(space.get()), H5Sclose);
    if (H5Sselect_hyperslab(sel.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0) return;
    readSelection(d.get(), false, type.get(), sel.get(), row);
  }
}

struct RootWalk {
  hid_t file;
  hsize_t seen = 0;
};

herr_t probeLink(hid_t, const char* name, const H5L_info_t* info, void* data) {
  auto* walk = static_cast<RootWalk*>(data);
  if (++walk->seen > kMaxRootObjects) return 1;  // stop: the readers only look at a few names
  if (info->type == H5L_TYPE_HARD) probeDataset(walk->file, name);  // groups fail to open: skipped
  return 0;
}

void probe(const std::string& path) {
  silenceHdf5();
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) return;  // the reader reports that itself
  H5Aiterate2(file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, probeAttribute, nullptr);
  RootWalk walk{file.get()};
  H5Literate(file.get(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, probeLink, &walk);
}

std::string secondsText(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", double(d.count()) / 1000.0);
  return buf;
}

}  // namespace

std::string trialOpen(const std::string& path) {
  using namespace std::chrono;
  const auto deadline = deadlineFromEnv("TLAB_HDF5_PROBE_SECONDS", seconds(5));
  // The child may map 1 GiB more than the process: libhdf5 grows without end on some files.
  const auto outcome = runIsolated([&] { probe(path); }, deadline, kMemoryCap);
  switch (outcome.kind) {
    case IsolatedOutcome::Kind::Finished:
      // Ended by the cap (an allocation failed inside libhdf5, which reports it as an ordinary
      // error): in-process, without the cap, the same read would take it all.
      if (outcome.memoryGrowthBytes > kMemoryGrowthLimit) {
        return "the HDF5 library needed more than " + std::to_string(kMemoryGrowthLimit >> 20) +
               " MiB of memory to read the file's structure (a corrupt or crafted file)";
      }
      return {};
    case IsolatedOutcome::Kind::NotStarted:  // no child to try it in: read it in-process
      return {};
    case IsolatedOutcome::Kind::TimedOut:
      return "the HDF5 library did not finish reading the file's structure within " +
             secondsText(deadline) +
             " s (a corrupt or crafted file; for a large file on a slow disk raise "
             "TLAB_HDF5_PROBE_SECONDS)";
    case IsolatedOutcome::Kind::Crashed:
      return "the HDF5 library crashed reading the file (" +
             (outcome.signal
                  ? "signal " + std::to_string(outcome.signal) + ", " + strsignal(outcome.signal)
                  : "exit code " + std::to_string(outcome.exitCode)) +
             "): a corrupt or crafted file";
  }
  return {};
}

}  // namespace tlab::core::hdf5
