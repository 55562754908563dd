#pragma once
// How tensors are grouped into buckets for all-reduce (internal to core/dist and
// core/train/DataParallel): one rule for the Communicator's flattening and for the gradient
// buckets DataParallel keeps.
#include <cstddef>
#include <utility>
#include <vector>

namespace at {
class Tensor;
}

namespace tlab::core {

/// The bucket size DataParallel uses, as DDP's default (Communicator's calls default to it too).
inline constexpr size_t kBucketBytes = 25u << 20;

/// Runs [begin, end) of consecutive `tensors` with one dtype and at most `bucketBytes` in all (a
/// larger tensor makes a bucket of its own).
std::vector<std::pair<size_t, size_t>> bucketRanges(const std::vector<at::Tensor>& tensors,
                                                    size_t bucketBytes);

}  // namespace tlab::core
