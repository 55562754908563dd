#pragma once
// Numeric precision of training and inference. bf16 autocast runs convolutions and matrix
// products in bfloat16 while the master weights, optimizer state, checkpoints, bundles, the loss
// and the feature cache stay fp32 (BatchNorm keeps fp32 parameters and statistics). It pays only
// where the hardware computes bf16 natively (AVX512_BF16 or AMX on the CPU); elsewhere libtorch
// emulates it, slower than fp32, so `auto` chooses it only on such CPUs.
#include <string>

#include "core/util/EnumNames.h"

namespace tlab::core {

enum class Precision { Fp32, Bf16, Auto };
inline constexpr auto kPrecisionNames =
    makeNameTable(std::pair{Precision::Fp32, "fp32"}, std::pair{Precision::Bf16, "bf16"},
                  std::pair{Precision::Auto, "auto"});

/// What this CPU offers for bf16: the native feature's name ("AVX512_BF16", "AMX_BF16"), or ""
/// (checked with CPUID and the OS's saved register state).
std::string nativeBf16Feature();

struct PrecisionChoice {
  Precision used = Precision::Fp32;  ///< Fp32 or Bf16, never Auto
  std::string reason;                ///< one line for the log
};
/// What the precision is chosen for: `auto` may answer differently for the two.
enum class PrecisionUse { Inference, Training };

/// Resolves `requested` for a run on CUDA or the CPU; `nativeFeature` as nativeBf16Feature().
/// `auto` with native bf16 picks bf16, except for training a network built on depthwise
/// convolutions whose backbone trains (`depthwise`: MobileNetV2, EfficientNet-Lite0, not as a
/// linear probe), where fp32 trains faster
/// (measured on a Zen 4 with AVX512_BF16: MobileNetV2 at 224 px 36-43 img/s in fp32 against
/// 25-27 in bf16, EfficientNet-Lite0 23.6 against 15.8); their inference stays bf16 (MobileNetV2
/// 272 img/s against 142).
PrecisionChoice choosePrecision(Precision requested, bool onCuda, const std::string& nativeFeature,
                                PrecisionUse use = PrecisionUse::Inference, bool depthwise = false);

/// Autocast for the current thread while alive (nothing for Fp32). Outputs of autocast regions
/// may be bf16: convert to float before losses, metrics and caches.
class AutocastScope {
 public:
  AutocastScope(Precision used, bool onCuda);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false, cuda_ = false, wasEnabled_ = false;
  int previousType_ = 0;
};

}  // namespace tlab::core
