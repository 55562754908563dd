#include "core/train/DataParallel.h"

#include <torch/torch.h>

#include "core/Errors.h"
#include "core/dist/Buckets.h"
#include "core/model/ImageClassifier.h"
#include "core/train/Evaluate.h"

namespace tlab::core {

DataParallel::DataParallel(const DistributedSpec& spec) : spec_(spec) {
  if (spec.enabled()) comm_ = std::make_unique<Communicator>(spec);
}

DataParallel::~DataParallel() = default;

bool DataParallel::everyoneGoesOn(bool mine) {
  if (!comm_) return mine;
  auto stops = torch::tensor({mine ? 0.f : 1.f});
  comm_->allReduceSum({stops});
  return stops.item<float>() == 0.f;
}

std::vector<int64_t> DataParallel::gather(int64_t v) {
  if (!comm_) return {v};
  const auto all = comm_->allGatherRows(torch::tensor({v}, torch::kLong));
  return std::vector<int64_t>(all.data_ptr<int64_t>(), all.data_ptr<int64_t>() + all.numel());
}

void DataParallel::requireSame(int64_t v, const std::string& what) {
  const auto all = gather(v);
  for (size_t r = 1; r < all.size(); ++r) {
    if (all[r] != all[0])
      throw InvalidArgument("rank " + std::to_string(r) + " " + what + " (" +
                            std::to_string(all[r]) + " on rank " + std::to_string(r) + ", " +
                            std::to_string(all[0]) + " on rank 0)");
  }
}

void DataParallel::broadcastModel(ImageClassifierImpl& net) {
  if (!comm_) return;
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> tensors;
  for (const auto& p : net.parameters()) tensors.push_back(p);
  for (const auto& b : net.buffers()) tensors.push_back(b);
  comm_->broadcast(tensors);
}

void DataParallel::broadcastBuffers(ImageClassifierImpl& net) {
  if (!comm_) return;
  torch::NoGradGuard noGrad;
  const auto buffers = net.buffers();
  if (!buffers.empty()) comm_->broadcast(buffers);
}

bool DataParallel::gradientsAreViews(const std::vector<torch::Tensor>& params) const {
  if (params.size() != views_.size()) return false;
  for (size_t k = 0; k < params.size(); ++k) {
    const auto& g = params[k].grad();
    if (g.data_ptr() != views_[k].data_ptr() || g.sizes() != views_[k].sizes()) return false;
  }
  return true;
}

void DataParallel::makeGradientViews(const std::vector<torch::Tensor>& params) {
  buckets_.clear();
  views_.clear();
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) grads.push_back(p.grad());
  for (const auto& [i, j] : bucketRanges(grads, kBucketBytes)) {
    int64_t numel = 0;
    for (size_t k = i; k < j; ++k) numel += grads[k].numel();
    auto flat = torch::empty({numel}, grads[i].options());
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      auto p = params[k];
      // The parameter's own layout (channels_last too), as autograd's layout contract wants.
      auto slot = flat.narrow(0, offset, grads[k].numel());
      auto view = p.is_non_overlapping_and_dense() ? slot.as_strided(p.sizes(), p.strides())
                                                   : slot.view(grads[k].sizes());
      view.copy_(grads[k]);
      p.mutable_grad() = view;
      views_.push_back(view);
      offset += view.numel();
    }
    buckets_.push_back(flat);
  }
}

void DataParallel::zeroGradients(torch::optim::Optimizer& optimizer) {
  if (views_.empty()) {
    optimizer.zero_grad();
    return;
  }
  torch::NoGradGuard noGrad;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) p.mutable_grad().zero_();
}

void DataParallel::averageGradients(torch::optim::Optimizer& optimizer) {
  if (!comm_) return;
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> params;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) params.push_back(p);
  const bool onCpu = params.empty() || params[0].grad().device().is_cpu();
  if (!onCpu) {  // (Gloo reduces CUDA tensors through host copies: the general path)
    std::vector<torch::Tensor> grads;
    for (auto& p : params) grads.push_back(p.grad());
    comm_->allReduceMean(grads, kBucketBytes, spec_.gradientWire);
    return;
  }
  if (!gradientsAreViews(params)) makeGradientViews(params);
  comm_->allReduceMean(buckets_, 0, spec_.gradientWire);  // each bucket on its own, in place
}

void DataParallel::sum(double& a, int64_t& b, int64_t& c) {
  if (!comm_) return;
  auto t = torch::tensor({a, double(b), double(c)}, torch::kDouble);
  comm_->allReduceSum({t});
  a = t[0].item<double>();
  b = int64_t(std::llround(t[1].item<double>()));
  c = int64_t(std::llround(t[2].item<double>()));
}

std::vector<size_t> DataParallel::trainingShare(const std::vector<size_t>& permutation) const {
  return comm_ ? trainingShard(permutation, spec_.rank, spec_.worldSize) : permutation;
}

std::vector<size_t> DataParallel::inferenceShare(const std::vector<size_t>& indices) const {
  return comm_ ? evaluationShard(indices, spec_.rank, spec_.worldSize) : indices;
}

torch::Tensor DataParallel::gatherRows(const torch::Tensor& rows, std::vector<size_t>& kept,
                                       const std::vector<size_t>& indices) {
  if (!comm_) return rows;
  std::vector<int64_t> mine(kept.begin(), kept.end());
  const auto allKept = comm_->allGatherRows(torch::tensor(mine, torch::kLong));
  auto all = comm_->allGatherRows(rows.to(torch::kCPU).contiguous());
  kept.assign(allKept.data_ptr<int64_t>(), allKept.data_ptr<int64_t>() + allKept.numel());
  return restoreOrder(all, kept, indices);
}

double DataParallel::allReduceSeconds() const { return comm_ ? comm_->allReduceSeconds() : 0; }
double DataParallel::allReduceBytes() const { return comm_ ? comm_->allReduceBytes() : 0; }

}  // namespace tlab::core
