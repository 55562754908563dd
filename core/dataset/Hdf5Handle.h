#pragma once
// Internal helpers for the HDF5 C API: RAII handles and the process-wide lock (Debian's HDF5 is
// not built thread-safe, so every call into it is serialised).
#include <hdf5.h>

#include <mutex>

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

}  // namespace tlab::core::hdf5
