#pragma once
// `transferlab-cli train --nproc N`: starts N local ranks of the same command, shows rank 0's
// output, stops every rank when one fails, and with --max-restarts K starts them all again from
// the last checkpoint (what torchrun does), up to K times.
#include <string>
#include <vector>

namespace tlab::cli {

/// The process's own command line, kept by main() for the launcher to re-run.
void setCommandLine(int argc, char** argv);

struct LocalLaunch {
  int processes = 2;
  int threadsPerProcess = 0;  ///< 0: the machine's cores shared evenly
  int maxRestarts = 0;
  bool resume = false;  ///< the first attempt resumes too
};

/// Runs the workers to the end; returns the exit code for the launcher (0: every rank finished,
/// 4: cancelled, otherwise the failed rank's code).
int launchLocalRanks(const LocalLaunch& launch);

}  // namespace tlab::cli
