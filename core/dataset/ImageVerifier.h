#pragma once
// Decodes every file-backed image of a dataset once (in parallel, at reduced scale where the
// codec allows) and moves the ones that fail into Dataset::skipped with the reason, so a user
// sees every broken file up front instead of mid-training.
#include <atomic>
#include <functional>

#include "core/dataset/Dataset.h"

namespace tlab::core {

struct VerifyOptions {
  int threads = 0;  ///< 0: one per hardware thread
  /// Called from worker threads with (done, total); keep it cheap and thread-safe.
  std::function<void(size_t, size_t)> progress;
  const std::atomic<bool>* cancel = nullptr;  ///< stops early when set; nothing is removed then
};

/// Returns the number of samples removed. Container formats (IDX, HDF5) and text are untouched.
size_t verifyImages(Dataset& dataset, const VerifyOptions& options = {});

}  // namespace tlab::core
