#include "core/runtime/Runtime.h"

#include <dlfcn.h>
#include <malloc.h>

#include <torch/torch.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <opencv2/core/utility.hpp>
#include <thread>

namespace tlab::core {

BlasKind classifyBlasLibrary(const std::string& file) {
  if (file.find("openblas") != std::string::npos) {
    if (file.find("openmp") != std::string::npos) return BlasKind::OpenBlasOpenMp;
    if (file.find("pthread") != std::string::npos) return BlasKind::OpenBlasPthread;
    return BlasKind::OtherOptimised;
  }
  if (file.find("/blas/") != std::string::npos || file.find("libblas.so") != std::string::npos) {
    return BlasKind::Reference;
  }
  if (file.find("mkl") != std::string::npos || file.find("blis") != std::string::npos ||
      file.find("atlas") != std::string::npos) {
    return BlasKind::OtherOptimised;
  }
  return BlasKind::Unknown;
}

namespace {

std::string resolvedBlas() {
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (!sym || !dladdr(sym, &info) || !info.dli_fname) return "";
  std::error_code ec;
  const auto real = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : real.string();
}

// Best of a few 512^3 products: ~2 ms each with OpenBLAS, ~90 ms with the reference BLAS.
double measureGemmGflops() {
  torch::NoGradGuard noGrad;
  constexpr int64_t n = 512;
  const auto a = torch::rand({n, n});
  const auto b = torch::rand({n, n});
  torch::mm(a, b);  // warm-up: thread pool start, page faults
  double best = 1e9, spent = 0;
  for (int i = 0; i < 20 && spent < 0.06; ++i) {  // at most ~60 ms, even on a slow BLAS
    const auto t0 = std::chrono::steady_clock::now();
    torch::mm(a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    spent += s;
  }
  return 2.0 * n * n * n / best / 1e9;
}

}  // namespace

const char* blasKindName(BlasKind kind) {
  switch (kind) {
    case BlasKind::OpenBlasOpenMp:
      return "OpenBLAS (OpenMP)";
    case BlasKind::OpenBlasPthread:
      return "OpenBLAS (pthreads)";
    case BlasKind::OtherOptimised:
      return "optimised BLAS";
    case BlasKind::Reference:
      return "reference BLAS (slow)";
    case BlasKind::Unknown:
      break;
  }
  return "unknown";
}

RuntimeReport configureRuntime(const RuntimeOptions& options) {
  RuntimeReport r;
  // Keep large tensors' pages mapped between steps instead of mmap/munmap churn on every step.
  r.allocatorTuned = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  // Data-loader workers provide the parallelism; nested OpenCV threads would oversubscribe.
  cv::setNumThreads(1);
  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  r.intraOpThreads = options.threads > 0 ? options.threads : hw;
  torch::set_num_threads(r.intraOpThreads);

  r.blasLibrary = resolvedBlas();
  r.blasKind = classifyBlasLibrary(r.blasLibrary);
  if (options.measureGemm) return withMeasuredBlas(std::move(r));
  r.warnings = runtimeWarnings(r);
  return r;
}

RuntimeReport withMeasuredBlas(RuntimeReport r) {
  r.gemmGflops = measureGemmGflops();
  r.warnings = runtimeWarnings(r);
  return r;
}

std::vector<std::string> runtimeWarnings(const RuntimeReport& r) {
  std::vector<std::string> warnings;
  if (r.blasKind == BlasKind::Reference || (r.gemmGflops > 0 && r.gemmGflops < kSlowGemmGflops)) {
    warnings.push_back("Slow BLAS in use (" +
                       (r.blasLibrary.empty() ? std::string("unknown") : r.blasLibrary) + ", " +
                       std::to_string(int(r.gemmGflops)) +
                       " GFLOP/s): training will be ~50x slower. Install libopenblas0-openmp "
                       "(scripts/demo does) or select it with update-alternatives --config "
                       "libblas.so.3-x86_64-linux-gnu.");
  } else if (r.blasKind == BlasKind::OpenBlasPthread) {
    warnings.push_back("OpenBLAS pthreads variant in use (" + r.blasLibrary +
                       "): it oversubscribes cores next to libtorch's OpenMP pool; "
                       "libopenblas0-openmp is faster.");
  }
  return warnings;
}

}  // namespace tlab::core
