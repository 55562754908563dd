#pragma once
// Internal helpers for the HDF5 C API: RAII handles and the process-wide lock (Debian's HDF5 is
// not built thread-safe, so every call into it is serialised).
#include <hdf5.h>

#include <mutex>
#include <string>

namespace tlab::core::hdf5 {

inline std::mutex& hdf5Mutex() {
  static std::mutex m;
  return m;
}

// Owns one hid_t and closes it with the matching function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() {
    const hid_t id = id_;
    id_ = -1;
    return id;
  }
  void reset(hid_t id = -1) {
    if (id_ >= 0) closer_(id_);
    id_ = id;
  }

 private:
  hid_t id_;
  herr_t (*closer_)(hid_t);
};

/// Turns off the library's own error printing for the calling thread (thread-safe HDF5 builds
/// keep one error stack per thread); TransferLab reports errors itself.
inline void silenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

/// libhdf5 (1.10) can loop forever or crash on a crafted file (found by fuzzing: a global heap
/// that sends H5HG_read round in H5C_protect), and a call into it cannot be interrupted. So every
/// file TransferLab did not just write is first tried in a child process (core/util/Isolated.h):
/// open it, read every attribute at its root and of its root datasets, every 1-D dataset whole (up
/// to 64 MiB) and the first and last rows of larger ones: the metadata and indexes the readers
/// then walk. Returns "" when that finished within the deadline (TLAB_HDF5_PROBE_SECONDS,
/// default 5) and within 512 MiB of memory (the child is capped at 1 GiB), else the reason to
/// refuse the file. The
/// caller holds hdf5Mutex(), so no other thread is inside libhdf5 while the process forks.
std::string trialOpen(const std::string& path);

}  // namespace tlab::core::hdf5
