#include "app/cli/DistributedLaunch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

namespace tlab::cli {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::string>& commandLine() {
  static std::vector<std::string> args;
  return args;
}

volatile std::sig_atomic_t interrupted = 0;
void onInterrupt(int) { interrupted = 1; }

// The command line without the launcher's own options (and without --resume: added per attempt).
std::vector<std::string> workerArguments() {
  static const char* const withValue[] = {"--nproc", "--threads-per-proc", "--max-restarts"};
  // (--threads-per-proc is added back with its resolved value.)
  std::vector<std::string> out;
  const auto& in = commandLine();
  for (size_t i = 1; i < in.size(); ++i) {
    const std::string& a = in[i];
    bool skip = false;
    for (const char* o : withValue) {
      if (a == o) {
        skip = true;
        ++i;  // and its value
      } else if (a.rfind(std::string(o) + "=", 0) == 0) {
        skip = true;
      }
    }
    if (!skip && a != "--resume") out.push_back(a);
  }
  return out;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int s = WTERMSIG(status);
    const char* name = strsignal(s);
    return "was killed by signal " + std::to_string(s) +
           (name ? std::string(" (") + name + ")" : "");
  }
  return "ended with status " + std::to_string(status);
}

pid_t spawnRank(const std::vector<std::string>& args, int rank, int threads) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid > 0) return pid;
  // Child: die with the launcher; only rank 0 writes to the terminal's standard output.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) _exit(127);
  if (rank > 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
  }
  setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);  // OpenBLAS, oneDNN
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "rank %d: cannot start %s: %s\n", rank, args[0].c_str(),
               std::strerror(errno));
  _exit(127);
}

// Waits for every rank; when one fails, gives the others a few seconds to report what they saw
// (the lost rank, by name), then stops them. Returns rank 0's exit code, or the first failure's.
int runAttempt(const std::vector<std::string>& base, const LocalLaunch& l, int attempt,
               bool resume) {
  const fs::path store =
      fs::temp_directory_path() /
      ("transferlab-dist-" + std::to_string(getpid()) + "-" + std::to_string(attempt) + ".store");
  fs::remove(store);
  std::vector<pid_t> pids(size_t(l.processes), 0);
  for (int r = 0; r < l.processes; ++r) {
    std::vector<std::string> args{commandLine()[0]};
    args.insert(args.end(), base.begin(), base.end());
    for (const std::string& a :
         {std::string("--world-size"), std::to_string(l.processes), std::string("--rank"),
          std::to_string(r), std::string("--dist-store"), store.string(),
          std::string("--threads-per-proc"), std::to_string(l.threadsPerProcess)})
      args.push_back(a);
    if (resume) args.push_back("--resume");
    pids[size_t(r)] = spawnRank(args, r, l.threadsPerProcess);
  }
  int running = l.processes, firstFailure = 0, rank0 = -1;
  std::optional<Clock::time_point> failedAt;
  bool forwarded = false;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      int rank = -1;
      for (size_t r = 0; r < pids.size(); ++r)
        if (pids[r] == pid) rank = int(r);
      if (rank < 0) continue;
      pids[size_t(rank)] = 0;
      --running;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (rank == 0) rank0 = code;
      if (code != 0 && code != 4) {
        std::cerr << "transferlab-cli: rank " << rank << " of " << l.processes << " "
                  << describe(status) << "\n";
        if (!failedAt) {
          failedAt = Clock::now();
          firstFailure = code;
        }
      }
      continue;
    }
    if (interrupted && !forwarded) {  // Ctrl+C reached us (and the ranks, if on a terminal)
      for (pid_t p : pids)
        if (p) kill(p, SIGINT);
      forwarded = true;
    }
    if (failedAt && Clock::now() - *failedAt > std::chrono::seconds(8)) {
      for (size_t r = 0; r < pids.size(); ++r) {
        if (!pids[r]) continue;
        std::cerr << "transferlab-cli: stopping rank " << r << "\n";
        kill(pids[r], Clock::now() - *failedAt > std::chrono::seconds(13) ? SIGKILL : SIGTERM);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::error_code ec;
  fs::remove(store, ec);
  if (firstFailure) return firstFailure;
  return rank0 < 0 ? 3 : rank0;
}

}  // namespace

void setCommandLine(int argc, char** argv) { commandLine().assign(argv, argv + argc); }

int launchLocalRanks(const LocalLaunch& l) {
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const auto base = workerArguments();
  LocalLaunch launch = l;
  if (launch.threadsPerProcess <= 0)  // the cores shared evenly
    launch.threadsPerProcess =
        std::max(1, int(std::thread::hardware_concurrency()) / std::max(1, l.processes));
  std::cerr << "transferlab-cli: starting " << l.processes << " ranks on this machine ("
            << launch.threadsPerProcess << " threads each)\n";
  int code = 0;
  for (int attempt = 0; attempt <= l.maxRestarts; ++attempt) {
    code = runAttempt(base, launch, attempt, l.resume || attempt > 0);
    if (code == 0 || code == 4 || interrupted) break;
    if (attempt < l.maxRestarts)
      std::cerr << "transferlab-cli: restarting every rank from the last checkpoint (restart "
                << attempt + 1 << " of " << l.maxRestarts << ")\n";
  }
  return interrupted && code != 0 ? 130 : code;
}

}  // namespace tlab::cli
