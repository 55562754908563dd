#include "core/train/Precision.h"

#include <ATen/autocast_mode.h>
#include <cpuid.h>
#include <torch/version.h>

#include <cstdint>

namespace tlab::core {
namespace {

// XCR0: which register states the OS saves on a context switch (AVX-512: bits 5-7, AMX: 17-18).
uint64_t osSavedState() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // no OSXSAVE
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

// The autocast switches of libtorch 1.13, renamed (device-typed) in 2.x.
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4
bool autocastEnabled(bool cuda) {
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
}
void setAutocast(bool cuda, bool on) {
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on);
}
at::ScalarType autocastType(bool cuda) {
  return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
}
void setAutocastType(bool cuda, at::ScalarType t) {
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t);
}
#else
bool autocastEnabled(bool cuda) {
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void setAutocast(bool cuda, bool on) {
  cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
}
at::ScalarType autocastType(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void setAutocastType(bool cuda, at::ScalarType t) {
  cuda ? at::autocast::set_autocast_gpu_dtype(t) : at::autocast::set_autocast_cpu_dtype(t);
}
#endif

}  // namespace

std::string nativeBf16Feature() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return "";
  const uint64_t xcr0 = osSavedState();
  const bool avx512State = (xcr0 & 0xE6) == 0xE6, amxState = (xcr0 & 0x60000) == 0x60000;
  __cpuid_count(7, 0, a, b, c, d);
  const bool amxBf16 = d & (1u << 22);
  __cpuid_count(7, 1, a, b, c, d);
  const bool avx512Bf16 = a & (1u << 5);
  if (amxBf16 && amxState) return "AMX_BF16";
  if (avx512Bf16 && avx512State) return "AVX512_BF16";
  return "";
}

PrecisionChoice choosePrecision(Precision requested, bool onCuda, const std::string& nativeFeature,
                                PrecisionUse use, bool depthwise) {
  if (requested == Precision::Fp32) return {Precision::Fp32, "precision fp32 (as configured)"};
  if (requested == Precision::Bf16) {
    if (onCuda) return {Precision::Bf16, "precision bf16 (autocast on CUDA, as configured)"};
    if (!nativeFeature.empty())
      return {Precision::Bf16, "precision bf16 (autocast; this CPU has " + nativeFeature + ")"};
    return {Precision::Bf16,
            "precision bf16 as configured, but this CPU has no native bf16 (no AVX512_BF16 or "
            "AMX): libtorch emulates it, slower than fp32"};
  }
  if (onCuda)
    return {Precision::Fp32,
            "precision auto -> fp32 (auto picks mixed precision on CPUs with native bf16; on "
            "CUDA choose bf16 explicitly)"};
  if (!nativeFeature.empty() && use == PrecisionUse::Training && depthwise)
    return {Precision::Fp32, "precision auto -> fp32 for training (this CPU has " + nativeFeature +
                                 ", but depthwise convolutions train faster in fp32)"};
  if (!nativeFeature.empty())
    return {Precision::Bf16,
            "precision auto -> bf16" +
                std::string(use == PrecisionUse::Training ? "" : " for inference") +
                " (this CPU has " + nativeFeature + ")"};
  return {Precision::Fp32,
          "precision auto -> fp32 (this CPU has no native bf16: no AVX512_BF16 or AMX)"};
}

AutocastScope::AutocastScope(Precision used, bool onCuda) {
  if (used != Precision::Bf16) return;
  active_ = true;
  cuda_ = onCuda;
  wasEnabled_ = autocastEnabled(cuda_);
  previousType_ = int(autocastType(cuda_));
  setAutocastType(cuda_, at::kBFloat16);
  setAutocast(cuda_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The outermost scope drops the cast weights it cached (as torch.autocast's __exit__ does).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setAutocast(cuda_, wasEnabled_);
  setAutocastType(cuda_, at::ScalarType(previousType_));
}

}  // namespace tlab::core
