#pragma once
// Activations (and dropout) shared by the networks.
#include <torch/torch.h>

#include <cmath>

namespace tlab::core {

/// ReLU6, in place like torchvision's ReLU6(inplace=True) (its backward needs only the result),
/// also while training; out of place only where in place cannot be: on a leaf that requires a
/// gradient, and for bf16 with a gradient, because libtorch 1.13 has no bf16 backward for
/// hardtanh on the CPU (mixed-precision training), so a clamp does it there.
inline torch::Tensor applyRelu6(torch::Tensor x) {
  if (torch::GradMode::is_enabled() && x.requires_grad() &&
      (x.is_leaf() || x.scalar_type() == torch::kBFloat16))
    return torch::clamp(x, 0, 6);
  return torch::hardtanh_(x, 0, 6);
}

/// Dropout with the same distribution as torch::dropout (each element kept with probability
/// 1 - p, kept ones scaled by 1 / (1 - p)), from 16 random bits per element instead of one
/// Bernoulli draw: libtorch's CPU bernoulli_() draws element by element (41 ms for the 6.3M
/// attention weights of one MiniLM layer at batch 32 x 128 tokens on a Zen 4), while random_()
/// on int32 takes 8 ms for two elements' bits per value. p is rounded to a multiple of 2^-15.
/// Seeded by the same generator as every other draw, so deterministic runs stay deterministic.
inline torch::Tensor fastDropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  if (p >= 1) return x * 0;
  const int64_t n = x.numel(), half = (n + 1) / 2;
  // random_() on int32 is uniform over [0, 2^31): the low 16 bits are uniform over 2^16 values,
  // the high 15 over 2^15; each half gets its own threshold.
  const auto bits = torch::empty({half}, torch::kInt32).random_();
  const auto keepLow = bits.bitwise_and(0xFFFF).ge(int64_t(std::lround(p * 65536.0)));
  const auto keepHigh = bits.bitwise_right_shift(16).ge(int64_t(std::lround(p * 32768.0)));
  const auto keep = torch::cat({keepLow, keepHigh}).narrow(0, 0, n).view(x.sizes());
  torch::Tensor scaled;
  {
    torch::NoGradGuard noGrad;  // the mask is a constant of the graph
    scaled = keep.to(x.scalar_type()).mul_(1.0 / (1.0 - p));
  }
  return x * scaled;
}

}  // namespace tlab::core
