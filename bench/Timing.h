#pragma once
// Timing helpers shared by the benchmark programs.
#include <algorithm>
#include <chrono>
#include <vector>

namespace tlab::bench {

/// The median of `v` (0 for none).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// Seconds of each of `steps` calls of `step(i)`, after `warmup` untimed ones (i counts all).
template <typename Step>
std::vector<double> timeSteps(int warmup, int steps, Step step) {
  std::vector<double> ts;
  for (int i = 0; i < warmup + steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    step(i);
    if (i >= warmup)
      ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return ts;
}

}  // namespace tlab::bench
