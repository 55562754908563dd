#pragma once
// Activations shared by the convolutional networks.
#include <torch/torch.h>

namespace tlab::core {

/// ReLU6. In place where no gradient flows through it (inference, frozen layers), like
/// torchvision's ReLU6(inplace=True); a clamp otherwise, because libtorch 1.13 has no bf16
/// backward for hardtanh on the CPU (mixed-precision training).
inline torch::Tensor applyRelu6(torch::Tensor x) {
  if (torch::GradMode::is_enabled() && x.requires_grad()) return torch::clamp(x, 0, 6);
  return torch::hardtanh_(x, 0, 6);
}

}  // namespace tlab::core
