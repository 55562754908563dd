#pragma once
// Process-wide compute settings. What decides speed on a small CPU machine is mostly outside
// the code: which BLAS libtorch resolved, the intra-op thread count (libtorch starts with 1
// here) and glibc's habit of unmapping large tensors after every step. configureRuntime() sets
// them deliberately once at start-up, for every user, without environment variables.
#include <string>
#include <vector>

namespace tlab::core {

enum class BlasKind { OpenBlasOpenMp, OpenBlasPthread, OtherOptimised, Reference, Unknown };

struct RuntimeReport {
  std::string blasLibrary;  ///< resolved file providing sgemm_, or "" when none was found
  BlasKind blasKind = BlasKind::Unknown;
  double gemmGflops = 0;  ///< measured on a 256^3 float product
  int intraOpThreads = 0;
  bool allocatorTuned = false;
  std::vector<std::string> warnings;  ///< user-facing; e.g. the slow reference BLAS
};

struct RuntimeOptions {
  int threads = 0;          ///< 0: all hardware threads (GUI callers may leave one free)
  bool measureGemm = true;  ///< a ~1 ms measurement that catches a slow BLAS whatever its name
};

/// Applies thread count, allocator and OpenCV settings and inspects the BLAS. Idempotent.
RuntimeReport configureRuntime(const RuntimeOptions& options = {});
/// `report` with gemmGflops measured (a few 512^3 products: ~10 ms with OpenBLAS, up to ~150 ms
/// with the reference BLAS) and its warnings updated. The GUI runs it after its window is up.
RuntimeReport withMeasuredBlas(RuntimeReport report);

const char* blasKindName(BlasKind kind);
/// Classifies a BLAS shared-library path (e.g. .../openblas-openmp/libblas.so.3).
BlasKind classifyBlasLibrary(const std::string& resolvedPath);
/// Below this a 512^3 product is too slow for any optimised BLAS on a current CPU.
constexpr double kSlowGemmGflops = 10.0;
/// The user-facing warnings for a report (slow or oversubscribing BLAS).
std::vector<std::string> runtimeWarnings(const RuntimeReport& report);

}  // namespace tlab::core
