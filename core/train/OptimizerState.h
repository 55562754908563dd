#pragma once
// Optimiser state in a non-executable format: plain tensors in one safetensors file, named
// "<group>.<param>.<field>" (SGD: momentum_buffer; Adam/AdamW: step, exp_avg, exp_avg_sq,
// max_exp_avg_sq). Unlike LibTorch's own optimizer archive (TorchScript, which can run code on
// load), reading it cannot run anything, and every tensor is checked against the parameter it
// belongs to (same shape) before it is used. Builds against LibTorch 1.13 and 2.x.
#include <filesystem>

namespace torch {
namespace optim {
class Optimizer;
}
}  // namespace torch
namespace c10 {
struct Device;
}

namespace tlab::core {

void saveOptimizerState(const torch::optim::Optimizer& optimizer,
                        const std::filesystem::path& file);
/// Restores what saveOptimizerState wrote for an optimiser of the same kind built over the same
/// parameters; throws FormatError naming `file` and the tensor when anything does not fit.
void loadOptimizerState(torch::optim::Optimizer& optimizer, const std::filesystem::path& file,
                        const c10::Device& device);

}  // namespace tlab::core
