// Work tried in a child process with a deadline (core/util/Isolated.h), and the HDF5 trial open
// built on it: a file on which libhdf5 never returns is refused in seconds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/train/CachedFeatures.h"
#include "core/train/FeatureCache.h"
#include "core/util/Isolated.h"

using namespace tlab::core;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {
const fs::path kLoopingHdf5 =
    fs::path(TLAB_SOURCE_DIR) / "tests/fuzz/crashes/hdf5/global-heap-loop-in-H5C_protect.h5";

double secondsSince(steady_clock::time_point t0) {
  return duration<double>(steady_clock::now() - t0).count();
}
}  // namespace

TEST(Isolated, WorkThatFinishesIsReportedFinished) {
  int touched = 0;
  const auto out = runIsolated([&] { touched = 1; }, seconds(5));
  EXPECT_EQ(out.kind, IsolatedOutcome::Kind::Finished);
  EXPECT_EQ(touched, 0);  // the work ran in the child's copy of the memory
}

TEST(Isolated, WorkThatNeverReturnsIsKilledAtTheDeadline) {
  const auto t0 = steady_clock::now();
  // A busy loop with a side effect (a loop without one is undefined behaviour, and clang then
  // drops it and runs into whatever code follows).
  const auto out = runIsolated(
      [] {
        volatile unsigned long spins = 0;
        for (;;) spins = spins + 1;
      },
      milliseconds(300));
  EXPECT_EQ(out.kind, IsolatedOutcome::Kind::TimedOut);
  EXPECT_LT(secondsSince(t0), 3.0);
}

TEST(Isolated, WorkThatCrashesIsReportedWithItsSignal) {
  const auto out = runIsolated([] { std::raise(SIGSEGV); }, seconds(5));
  EXPECT_EQ(out.kind, IsolatedOutcome::Kind::Crashed);
  // Plainly the signal itself; under AddressSanitizer its SEGV handler ends the child instead,
  // with abort() (abort_on_error=1) or exit code 1.
  EXPECT_TRUE(out.signal == SIGSEGV || out.signal == SIGABRT ||
              (out.signal == 0 && out.exitCode != 0))
      << "signal " << out.signal << ", exit code " << out.exitCode;
}

TEST(Isolated, ExceptionsStayInTheChild) {
  const auto out = runIsolated([] { throw std::runtime_error("x"); }, seconds(5));
  EXPECT_EQ(out.kind, IsolatedOutcome::Kind::Finished);
}

TEST(Isolated, DeadlineComesFromTheEnvironmentWhenValid) {
  ::setenv("TLAB_TEST_DEADLINE", "2.5", 1);
  EXPECT_EQ(deadlineFromEnv("TLAB_TEST_DEADLINE", seconds(5)), milliseconds(2500));
  ::setenv("TLAB_TEST_DEADLINE", "-1", 1);
  EXPECT_EQ(deadlineFromEnv("TLAB_TEST_DEADLINE", seconds(5)), milliseconds(5000));
  ::setenv("TLAB_TEST_DEADLINE", "3s", 1);
  EXPECT_EQ(deadlineFromEnv("TLAB_TEST_DEADLINE", seconds(5)), milliseconds(5000));
  ::unsetenv("TLAB_TEST_DEADLINE");
}

// Found by scripts/fuzz: libhdf5 1.10.8 loops forever in H5C_protect reading this file's
// class_names (a variable-length string in a damaged global heap).
TEST(Isolated, Hdf5FileOnWhichTheLibraryNeverReturnsIsRefusedNamingTheFile) {
  ASSERT_TRUE(fs::exists(kLoopingHdf5));
  ::setenv("TLAB_HDF5_PROBE_SECONDS", "1", 1);
  const auto t0 = steady_clock::now();
  try {
    (void)openDataset(kLoopingHdf5);
    FAIL() << "expected a FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(kLoopingHdf5.filename().string()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("did not finish"), std::string::npos) << e.what();
  }
  EXPECT_LT(secondsSince(t0), 5.0);
  ::unsetenv("TLAB_HDF5_PROBE_SECONDS");
}

TEST(Isolated, FeatureCacheFileOnWhichTheLibraryNeverReturnsIsAMiss) {
  const fs::path dir = fs::temp_directory_path() / ("tlab-isolated-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string key(64, 'b');
  fs::copy_file(kLoopingHdf5, dir / (key.substr(0, 32) + ".h5"),
                fs::copy_options::overwrite_existing);
  ::setenv("TLAB_HDF5_PROBE_SECONDS", "1", 1);
  std::string note;
  EXPECT_FALSE(FeatureCache(dir).load(key, {0, 1}, &note).has_value());
  EXPECT_NE(note.find("did not finish"), std::string::npos) << note;
  ::unsetenv("TLAB_HDF5_PROBE_SECONDS");
  fs::remove_all(dir);
}

TEST(Isolated, MemoryCapEndsAChildThatAllocatesWithoutEnd) {
  if (!isolationCapsMemory()) GTEST_SKIP() << "the address-space cap is off in sanitizer builds";
  const auto t0 = steady_clock::now();
  const auto out = runIsolated(
      [] {
        std::vector<std::vector<char>> hoard;
        for (;;) hoard.emplace_back(size_t(64) << 20, 'x');  // bad_alloc at the cap: caught
      },
      seconds(20), uint64_t(256) << 20);
  EXPECT_EQ(out.kind, IsolatedOutcome::Kind::Finished);
  EXPECT_LT(secondsSince(t0), 10.0);
}

TEST(Isolated, ChildEndedByACrashHandlerIsACrashToo) {
  const auto out = runIsolated([] { ::_exit(1); }, seconds(5));  // what a sanitizer's handler does
  EXPECT_EQ(out.kind, IsolatedOutcome::Kind::Crashed);
  EXPECT_EQ(out.exitCode, 1);
}
