#include "core/runtime/Runtime.h"

#include <gtest/gtest.h>

#include <torch/torch.h>
#include "core/Sanitizers.h"

namespace tlab::core {
namespace {

TEST(Runtime, ClassifiesDebianBlasAlternatives) {
  EXPECT_EQ(classifyBlasLibrary("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"),
            BlasKind::OpenBlasOpenMp);
  EXPECT_EQ(classifyBlasLibrary("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"),
            BlasKind::OpenBlasPthread);
  EXPECT_EQ(classifyBlasLibrary("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"),
            BlasKind::Reference);
  EXPECT_EQ(classifyBlasLibrary(""), BlasKind::Unknown);
}

TEST(Runtime, WarnsAboutTheSlowPath) {
  RuntimeReport slow;
  slow.blasLibrary = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";
  slow.blasKind = BlasKind::Reference;
  slow.gemmGflops = 3;
  ASSERT_EQ(runtimeWarnings(slow).size(), 1u);
  EXPECT_NE(runtimeWarnings(slow)[0].find("libopenblas0-openmp"), std::string::npos);

  RuntimeReport measuredSlow;  // unknown library, but the measurement gives it away
  measuredSlow.gemmGflops = 2.5;
  EXPECT_EQ(runtimeWarnings(measuredSlow).size(), 1u);

  RuntimeReport fast;
  fast.blasKind = BlasKind::OpenBlasOpenMp;
  fast.gemmGflops = 150;
  EXPECT_TRUE(runtimeWarnings(fast).empty());
}

using tlab::test::kAddressSanitizer;

TEST(Runtime, ConfiguresThreadsAndFindsTheBlas) {
  RuntimeOptions opts;
  opts.threads = 2;
  const RuntimeReport r = configureRuntime(opts);
  EXPECT_EQ(r.intraOpThreads, 2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  if (!kAddressSanitizer) {  // ASan brings its own allocator: mallopt does not apply
    EXPECT_TRUE(r.allocatorTuned);
  }
  EXPECT_FALSE(r.blasLibrary.empty());
  EXPECT_GT(r.gemmGflops, 0.0);
  // The executables carry an RPATH to the OpenMP OpenBLAS, so where it is installed it wins
  // over whatever update-alternatives selects system-wide.
  EXPECT_EQ(r.blasKind, BlasKind::OpenBlasOpenMp) << r.blasLibrary;
}

}  // namespace
}  // namespace tlab::core
