// safetensors, .pth (zip and legacy pickle) and the ZIP reader, through readWeights() as the
// application calls it. Every outcome but a tlab::core::Error or a state dict is a finding.
#include "FuzzFile.h"
#include "core/Errors.h"
#include "core/weights/StateDict.h"

TLAB_FUZZ_TARGET(weights) {
  const auto path = tlab::fuzz::writeInput("weights.bin", data, size);
  try {
    const auto sd = tlab::core::readWeights(path);
    for (const auto& [key, tensor] : sd) (void)tensor.sum();  // touch every byte of every tensor
  } catch (const tlab::core::Error&) {
  }
  return 0;
}
