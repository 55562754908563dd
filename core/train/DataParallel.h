#pragma once
// What data-parallel training adds to a training session (internal to core/train): the model
// made equal on every rank, gradients averaged, BatchNorm buffers from rank 0, each rank's share
// of an epoch, results gathered from the shares. With one rank every call is a no-op or the
// identity, so the session reads the same either way.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dist/Distributed.h"

namespace torch::optim {
class Optimizer;
}

namespace tlab::core {

class ImageClassifierImpl;

class DataParallel {
 public:
  /// Joins the other ranks when `spec` has more than one (throws DistributedError).
  explicit DataParallel(const DistributedSpec& spec);
  ~DataParallel();

  bool enabled() const { return comm_ != nullptr; }
  int rank() const { return spec_.rank; }
  int worldSize() const { return spec_.worldSize; }
  /// Whether this rank writes checkpoints, history and the bundle (rank 0).
  bool writes() const { return spec_.rank == 0; }

  /// True when every rank goes on (each passes whether it wants to).
  bool everyoneGoesOn(bool mine);
  /// Each rank's value of `v`, in rank order (e.g. the epoch a rank resumes after).
  std::vector<int64_t> gather(int64_t v);
  /// Throws InvalidArgument naming the first rank whose `v` differs from rank 0's: "rank R
  /// <what> (v on rank R, v0 on rank 0)".
  void requireSame(int64_t v, const std::string& what);
  /// Parameters and buffers of rank 0 into every rank's model.
  void broadcastModel(ImageClassifierImpl& net);
  /// BatchNorm running statistics (all buffers) of rank 0, as DDP does before each step.
  void broadcastBuffers(ImageClassifierImpl& net);
  /// The optimizer's zero_grad(), in place when gradients are bucket views (zero_grad's
  /// detach_() refuses views).
  void zeroGradients(torch::optim::Optimizer& optimizer);
  /// Averages the gradients of the optimizer's parameters that have one (frozen ones have
  /// none), in ~25 MB buckets.
  void averageGradients(torch::optim::Optimizer& optimizer);
  /// Sums of an epoch's running totals across ranks.
  void sum(double& a, int64_t& b, int64_t& c);

  /// This rank's share of an epoch's permutation (DistributedSampler's padding).
  std::vector<size_t> trainingShare(const std::vector<size_t>& permutation) const;
  /// This rank's share of samples to run inference on (no padding).
  std::vector<size_t> inferenceShare(const std::vector<size_t>& indices) const;
  /// Every rank's rows (one per entry of its `kept`) gathered and put in the order of `indices`;
  /// `kept` becomes the gathered sample list.
  at::Tensor gatherRows(const at::Tensor& rows, std::vector<size_t>& kept,
                        const std::vector<size_t>& indices);

  /// Seconds and bytes of gradient all-reduction so far.
  double allReduceSeconds() const;
  double allReduceBytes() const;

 private:
  DistributedSpec spec_;
  std::unique_ptr<Communicator> comm_;
  // Gradients as views into a few flat buckets (as DDP's gradient_as_bucket_view): autograd
  // accumulates into them in place, and each bucket is all-reduced without a copy. Rebuilt when
  // the set of gradients changes (freezing, or an optimizer that frees them between steps).
  std::vector<at::Tensor> buckets_, views_;
  bool gradientsAreViews(const std::vector<at::Tensor>& params) const;
  void makeGradientViews(const std::vector<at::Tensor>& params);
};

}  // namespace tlab::core
