// The machine's own limits, measured in the same run as the throughput benchmarks so that "% of
// limit" compares with this CPU and not another one:
//   - FMA peak: independent fused multiply-add chains in registers (AVX-512 where the CPU has
//     it, else AVX2), on as many threads as libtorch uses; FLOP = 2 per lane per FMA;
//   - large-GEMM throughput of libtorch in fp32 and bf16 (2048^3; bf16 is emulated, and slow,
//     on CPUs without native bf16);
//   - memory bandwidth: a triad a = b + s * c over 3 x 128 MiB (bytes read + written).
// Prints one JSON line with the CPU model and its relevant flags.
//   tlab_bench_limits
#include <immintrin.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/runtime/Runtime.h"
#include "core/train/Precision.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kFmaIterations = 50'000'000;

// 12 independent chains hide the FMA latency (4 cycles x 2 ports needs >= 8).
__attribute__((target("avx2,fma"))) float fmaAvx2(int64_t iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t n = 0; n < iterations; ++n) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f"))) float fmaAvx512(int64_t iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t n = 0; n < iterations; ++n) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0];
}

double fmaPeakGflops(int threads, bool avx512) {
  const int lanes = avx512 ? 16 : 8;
  const int64_t iterations = avx512 ? kFmaIterations / 2 : kFmaIterations;
  std::vector<std::thread> pool;
  std::vector<float> sink(static_cast<size_t>(threads));
  const auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back(
        [&, t] { sink[size_t(t)] = avx512 ? fmaAvx512(iterations) : fmaAvx2(iterations); });
  }
  for (auto& t : pool) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%s", sink[0] == 12345.f ? " " : "");  // keep the result alive
  return double(threads) * double(iterations) * 12 * lanes * 2 / s / 1e9;
}

// Best of `repeats` runs of `f`, in seconds.
template <typename F>
double bestSeconds(int repeats, F f) {
  f();  // warm-up
  double best = 1e9;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

double gemmGflops(torch::ScalarType type, int64_t n) {
  torch::NoGradGuard g;
  const auto a = torch::rand({n, n}).to(type), b = torch::rand({n, n}).to(type);
  const double s = bestSeconds(3, [&] { torch::mm(a, b); });
  return 2.0 * double(n) * double(n) * double(n) / s / 1e9;
}

double triadGbPerSecond() {
  torch::NoGradGuard g;
  const int64_t n = int64_t(128) << 18;  // 128 MiB of floats per array
  auto a = torch::empty({n}), b = torch::rand({n}), c = torch::rand({n});
  const double s = bestSeconds(5, [&] { torch::add_out(a, b, c, 0.5); });
  return 3.0 * double(n) * 4 / s / 1e9;
}

std::string cpuModel(std::string* flagsOut) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_first_of(" \t"));
    if (key == "model" && line.rfind("model name", 0) == 0 && model.empty())
      model = line.substr(colon + 2);
    if (key == "flags" && flagsOut->empty()) {
      const std::string all = " " + line.substr(colon + 1) + " ";
      for (const char* f : {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
        if (all.find(std::string(" ") + f + " ") != std::string::npos)
          *flagsOut += f + std::string(" ");
    }
  }
  return model;
}

}  // namespace

int main() {
  const auto rt = tlab::core::configureRuntime({0, false});
  const bool avx512 = __builtin_cpu_supports("avx512f");
  std::string flags;
  const std::string model = cpuModel(&flags);
  if (!flags.empty()) flags.pop_back();
  const std::string bf16 = tlab::core::nativeBf16Feature();
  nlohmann::json j{{"impl", "limits"},
                   {"cpu", model},
                   {"flags", flags},
                   {"native_bf16", bf16.empty() ? "none" : bf16},
                   {"threads", rt.intraOpThreads},
                   {"fma_isa", avx512 ? "avx512" : "avx2"},
                   {"fma_peak_gflops", fmaPeakGflops(rt.intraOpThreads, avx512)},
                   {"gemm_fp32_gflops", gemmGflops(torch::kFloat, 2048)},
                   {"gemm_bf16_gflops", gemmGflops(torch::kBFloat16, bf16.empty() ? 1024 : 2048)},
                   {"bandwidth_gb_per_s", triadGbPerSecond()}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
