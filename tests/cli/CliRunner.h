#pragma once
// Runs the real transferlab-cli binary (TLAB_CLI_PATH) with a shell command line and returns
// its exit code and standard output (standard error is discarded unless `withStderr`).
// `env` ("NAME=value ...") prefixes the command.
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <utility>

namespace tlab::test {

inline std::pair<int, std::string> runCli(const std::string& args, const std::string& env = "",
                                          bool withStderr = false) {
  const std::string cmd =
      env + std::string(TLAB_CLI_PATH) + " " + args + (withStderr ? " 2>&1" : " 2>/dev/null");
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace tlab::test
