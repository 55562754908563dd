// The image gate: probe and decode (full and 1/8 scale) of any bytes. Never throws by contract.
#include "FuzzFile.h"
#include "core/image/ImageDecoder.h"

TLAB_FUZZ_TARGET(image) {
  using namespace tlab::core;
  ImageLimits limits;
  limits.maxPixels = 4'000'000;  // keep iterations fast; the budget logic is the same
  limits.maxDecodedBytes = 32 << 20;
  (void)decodeImageBytes(data, size, DecodeScale::Eighth, limits);
  (void)decodeImageBytes(data, size, DecodeScale::Full, limits);
  return 0;
}
