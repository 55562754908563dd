#pragma once
// Data-parallel training across processes and machines, on PyTorch's own distributed engine
// (c10d with Gloo). Communicator.cpp is the only file that sees c10d; everything else uses this
// small interface. Without TLAB_WITH_DISTRIBUTED (no libgloo-dev at build time) the Communicator
// refuses to start with a clear error.
//
// Security: c10d has no authentication. Local runs rendezvous through a file and their Gloo
// sockets listen on 127.0.0.1 only; runs across machines listen on the address the user names.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/Errors.h"
#include "core/util/EnumNames.h"

namespace at {
class Tensor;
}

namespace tlab::core {

/// How gradients travel in the all-reduce: as they are (fp32), or compressed to 16 bits and back,
/// as DDP's fp16/bf16 compress hooks do: half the bytes on the wire. The mean is summed in fp32
/// and rounded once more on the way back, so each averaged gradient keeps about three
/// significant digits with fp16 (range 6e-8 to 65504) or two with bf16 (fp32's range).
enum class GradientWire { Fp32, Fp16, Bf16 };
inline constexpr auto kGradientWireNames =
    makeNameTable(std::pair{GradientWire::Fp32, "none"}, std::pair{GradientWire::Fp16, "fp16"},
                  std::pair{GradientWire::Bf16, "bf16"});

/// How this process takes part in a run. worldSize 1: not distributed.
struct DistributedSpec {
  int worldSize = 1;
  int rank = 0;
  int localRank = 0;       ///< index among the ranks of this machine (CUDA device)
  std::string storeFile;   ///< local runs: rendezvous through this file (nothing listens)
  std::string masterAddr;  ///< otherwise rank 0's TCP store at masterAddr:masterPort
  int masterPort = 0;
  double timeoutSeconds = 600;  ///< collective timeout: how long a hung rank goes unnoticed
  double joinSeconds = 300;     ///< how long to wait for every rank to arrive
  GradientWire gradientWire = GradientWire::Fp32;  ///< gradient compression in the all-reduce
  bool enabled() const { return worldSize > 1; }
};

/// A rank was lost, a collective timed out, or the rendezvous failed.
class DistributedError : public Error {
 public:
  using Error::Error;
};

/// True when this build has the distributed engine (TLAB_WITH_DISTRIBUTED).
bool distributedBuilt();

/// One process's membership of the group. Collectives are blocking; every rank must call them in
/// the same order with tensors of the same shapes. A failure throws DistributedError naming the
/// lost rank(s) when they can be told (a rank that stopped sending heartbeats).
class Communicator {
 public:
  /// Rendezvous with the other ranks; throws DistributedError (timeout, bad address, or a
  /// build without the distributed engine).
  explicit Communicator(const DistributedSpec& spec);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const;
  int worldSize() const;

  /// Rank `root`'s values into every rank's tensors (in place; flattened into buckets).
  void broadcast(const std::vector<at::Tensor>& tensors, int root = 0);
  /// In place: the mean over ranks of each tensor, in buckets of at most `bucketBytes`; floating
  /// tensors travel as `wire` says.
  void allReduceMean(const std::vector<at::Tensor>& tensors, size_t bucketBytes = 25u << 20,
                     GradientWire wire = GradientWire::Fp32);
  /// In place: the sum over ranks.
  void allReduceSum(const std::vector<at::Tensor>& tensors, size_t bucketBytes = 25u << 20);
  /// Every rank's `rows` (same trailing shape and dtype; first dimension may differ) stacked in
  /// rank order.
  at::Tensor allGatherRows(const at::Tensor& rows);
  void barrier();

  /// Time spent in all-reductions and the bytes reduced, since construction (for benchmarks).
  double allReduceSeconds() const;
  double allReduceBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The samples of `permutation` that `rank` of `worldSize` trains on in one epoch, as PyTorch's
/// DistributedSampler: the permutation padded by repeating its start to a multiple of
/// worldSize, then every worldSize-th element from `rank`. All ranks get the same count.
std::vector<size_t> trainingShard(const std::vector<size_t>& permutation, int rank, int worldSize);

/// The samples `rank` evaluates: every worldSize-th from `rank`, no padding (each counted once).
std::vector<size_t> evaluationShard(const std::vector<size_t>& indices, int rank, int worldSize);

/// The rendezvous a process was started with, from the environment `torchrun` sets (WORLD_SIZE,
/// RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) or SLURM's (SLURM_NTASKS, SLURM_PROCID,
/// SLURM_LOCALID, the first host of SLURM_JOB_NODELIST; port MASTER_PORT or derived from
/// SLURM_JOB_ID). worldSize 1 when neither is set.
DistributedSpec distributedSpecFromEnvironment();

/// The first host of a SLURM node list ("gpu[03-05,9],cpu1" -> "gpu03").
std::string firstSlurmHost(const std::string& nodeList);

}  // namespace tlab::core
