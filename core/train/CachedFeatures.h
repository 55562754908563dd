#pragma once
#include <torch/torch.h>

#include <vector>

namespace tlab::core {

/// Features [N, F] (float32, CPU) and the dataset sample index of each row.
struct CachedFeatures {
  torch::Tensor features;
  std::vector<size_t> samples;
};

}  // namespace tlab::core
