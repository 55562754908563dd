#include "core/util/Isolated.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace tlab::core {

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// The process's mapped and resident memory in bytes (/proc/self/statm); zeros when unreadable.
struct MemoryUse {
  uint64_t mapped = 0, resident = 0;
};
MemoryUse memoryUse() {
  unsigned long long size = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%llu %llu", &size, &resident) != 2) size = resident = 0;
    std::fclose(f);
  }
  const auto page = uint64_t(::sysconf(_SC_PAGESIZE));
  return {uint64_t(size) * page, uint64_t(resident) * page};
}

// In the child: cap the address space at what is mapped now plus `extra` bytes.
void limitAddressSpace(uint64_t extra) {
  if (extra == 0 || !isolationCapsMemory()) return;
  const uint64_t mapped = memoryUse().mapped;
  if (mapped == 0) return;
  rlimit lim{};
  if (::getrlimit(RLIMIT_AS, &lim) != 0) return;
  const rlim_t want = rlim_t(mapped + extra);
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > want) {
    lim.rlim_cur = want;
    ::setrlimit(RLIMIT_AS, &lim);
  }
}

}  // namespace

bool isolationCapsMemory() { return !kSanitized; }

IsolatedOutcome runIsolated(const std::function<void()>& work, std::chrono::milliseconds deadline,
                            uint64_t memoryBytes) {
  IsolatedOutcome out;
  const uint64_t residentAtFork = memoryUse().resident;
  const pid_t pid = ::fork();
  if (pid < 0) {
    out.detail = std::strerror(errno);
    return out;
  }
  if (pid == 0) {
    try {
      limitAddressSpace(memoryBytes);
      work();
    } catch (...) {
    }
    ::_exit(0);  // no atexit handlers or static destructors of the parent's state
  }
  const auto end = std::chrono::steady_clock::now() + deadline;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    int status = 0;
    rusage usage{};
    const pid_t r = ::wait4(pid, &status, WNOHANG, &usage);
    if (r == pid) {
      const uint64_t peak = uint64_t(usage.ru_maxrss) * 1024;
      out.memoryGrowthBytes = peak > residentAtFork ? peak - residentAtFork : 0;
      if (WIFSIGNALED(status)) {
        out.kind = IsolatedOutcome::Kind::Crashed;
        out.signal = WTERMSIG(status);
      } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        // Not our _exit(0): a crash handler (a sanitizer's, say) ended the child.
        out.kind = IsolatedOutcome::Kind::Crashed;
        out.exitCode = WEXITSTATUS(status);
      } else {
        out.kind = IsolatedOutcome::Kind::Finished;
      }
      return out;
    }
    if (r < 0 && errno != EINTR) {  // reaped elsewhere (SIGCHLD ignored): nothing to wait for
      out.kind = IsolatedOutcome::Kind::Finished;
      return out;
    }
    if (std::chrono::steady_clock::now() >= end) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      out.kind = IsolatedOutcome::Kind::TimedOut;
      return out;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
}

std::chrono::milliseconds deadlineFromEnv(const char* name, std::chrono::milliseconds fallback) {
  if (const char* v = std::getenv(name)) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end != v && *end == '\0' && s > 0 && s < 86400) {
      return std::chrono::milliseconds(static_cast<long long>(s * 1000));
    }
  }
  return fallback;
}

}  // namespace tlab::core
