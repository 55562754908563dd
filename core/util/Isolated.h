#pragma once
// Runs a piece of work in a child process (fork) with a deadline, for calls into third-party
// libraries that a hostile file can send into an endless loop or a crash where TransferLab cannot
// interrupt them (libhdf5). The child only proves the work finishes; results are not passed back,
// so the caller repeats the work in-process once the trial has passed.
//
// Rules for `work`: it runs in a copy of the process that has only the calling thread, so it must
// not take locks another thread may hold (the caller holds what it needs across the call), start
// threads, or touch Qt/LibTorch; exceptions are caught in the child.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace tlab::core {

struct IsolatedOutcome {
  enum class Kind { Finished, TimedOut, Crashed, NotStarted } kind = Kind::NotStarted;
  int signal = 0;    ///< the signal that ended the child (Crashed), or 0
  int exitCode = 0;  ///< Crashed without a signal: the child's exit code (a crash handler's)
  uint64_t memoryGrowthBytes = 0;  ///< the child's peak resident memory beyond the parent's at fork
  std::string detail;              ///< why it could not start (NotStarted)
};

/// Forks, runs `work` in the child and waits at most `deadline` for it; a child still running
/// then is killed (SIGKILL) and reaped. With `memoryBytes` > 0 the child may map at most that
/// much beyond what the process already has (RLIMIT_AS; not in sanitizer builds, whose shadow
/// memory needs terabytes of address space), so a file that makes a library allocate without end
/// ends the child instead of filling the machine for the whole deadline. NotStarted when fork()
/// fails (the caller decides whether to go on without the trial).
IsolatedOutcome runIsolated(const std::function<void()>& work, std::chrono::milliseconds deadline,
                            uint64_t memoryBytes = 0);

/// Whether runIsolated's memoryBytes cap is in force in this build (not under sanitizers).
bool isolationCapsMemory();

/// Seconds from the environment variable `name` (a positive number), else `fallback`.
std::chrono::milliseconds deadlineFromEnv(const char* name, std::chrono::milliseconds fallback);

}  // namespace tlab::core
