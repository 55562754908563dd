// Sample sharding and the launch environment: plain C++, no c10d (see Distributed.h).
#include <cstdlib>
#include <string>

#include "core/dist/Distributed.h"

namespace tlab::core {

namespace {

void checkRank(int rank, int worldSize) {
  if (worldSize < 1 || rank < 0 || rank >= worldSize)
    throw InvalidArgument("rank " + std::to_string(rank) + " is outside a world of " +
                          std::to_string(worldSize));
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int envInt(const char* name, const std::string& what) {
  const char* v = env(name);
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (!end || *end || n < 0 || n > 1'000'000)
    throw InvalidArgument(std::string("environment variable ") + name + "='" + v + "' is not a " +
                          what);
  return int(n);
}

}  // namespace

std::vector<size_t> trainingShard(const std::vector<size_t>& permutation, int rank, int worldSize) {
  checkRank(rank, worldSize);
  const size_t w = size_t(worldSize);
  const size_t perRank = (permutation.size() + w - 1) / w;
  std::vector<size_t> shard;
  if (permutation.empty()) return shard;
  shard.reserve(perRank);
  for (size_t k = 0; k < perRank; ++k) {
    const size_t i = k * w + size_t(rank);
    shard.push_back(permutation[i % permutation.size()]);  // past the end: repeat the start
  }
  return shard;
}

std::vector<size_t> evaluationShard(const std::vector<size_t>& indices, int rank, int worldSize) {
  checkRank(rank, worldSize);
  std::vector<size_t> shard;
  for (size_t i = size_t(rank); i < indices.size(); i += size_t(worldSize))
    shard.push_back(indices[i]);
  return shard;
}

std::string firstSlurmHost(const std::string& nodeList) {
  // "prefix[range,...]suffix,next" -> prefix + first number of the range (zero padding kept).
  std::string host;
  for (size_t i = 0; i < nodeList.size(); ++i) {
    const char c = nodeList[i];
    if (c == ',') break;
    if (c == '[') {
      const size_t close = nodeList.find(']', i);
      if (close == std::string::npos) break;
      const std::string inner = nodeList.substr(i + 1, close - i - 1);
      host += inner.substr(0, inner.find_first_of(",-"));
      i = close;
      continue;
    }
    host += c;
  }
  return host;
}

DistributedSpec distributedSpecFromEnvironment() {
  DistributedSpec s;
  if (env("WORLD_SIZE") && env("RANK")) {  // torchrun, or any launcher following its convention
    s.worldSize = envInt("WORLD_SIZE", "world size");
    s.rank = envInt("RANK", "rank");
    s.localRank = env("LOCAL_RANK") ? envInt("LOCAL_RANK", "local rank") : 0;
    if (s.worldSize > 1) {
      if (!env("MASTER_ADDR") || !env("MASTER_PORT"))
        throw InvalidArgument("WORLD_SIZE and RANK are set but MASTER_ADDR or MASTER_PORT is not");
      s.masterAddr = env("MASTER_ADDR");
      s.masterPort = envInt("MASTER_PORT", "port");
    }
  } else if (env("SLURM_NTASKS") && env("SLURM_PROCID")) {  // srun
    s.worldSize = envInt("SLURM_NTASKS", "task count");
    s.rank = envInt("SLURM_PROCID", "task id");
    s.localRank = env("SLURM_LOCALID") ? envInt("SLURM_LOCALID", "local id") : 0;
    if (s.worldSize > 1) {
      s.masterAddr = env("MASTER_ADDR")          ? std::string(env("MASTER_ADDR"))
                     : env("SLURM_JOB_NODELIST") ? firstSlurmHost(env("SLURM_JOB_NODELIST"))
                                                 : std::string();
      if (s.masterAddr.empty())
        throw InvalidArgument(
            "SLURM_NTASKS > 1 but neither MASTER_ADDR nor SLURM_JOB_NODELIST "
            "is set");
      // One port per job, so two jobs sharing a node do not meet.
      s.masterPort = env("MASTER_PORT")    ? envInt("MASTER_PORT", "port")
                     : env("SLURM_JOB_ID") ? 20000 + envInt("SLURM_JOB_ID", "job id") % 20000
                                           : 29500;
    }
  }
  if (s.worldSize < 1) s.worldSize = 1;
  checkRank(s.rank, s.worldSize);
  return s;
}

}  // namespace tlab::core
