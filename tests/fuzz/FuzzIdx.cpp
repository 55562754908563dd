// An IDX image/label pair: the first byte splits the rest into the two files; the second picks
// gzip-looking content or not by leaving it to the bytes themselves.
#include "FuzzFile.h"
#include "core/Errors.h"
#include "core/dataset/Readers.h"

TLAB_FUZZ_TARGET(idx) {
  if (size < 1) return 0;
  const size_t split = std::min<size_t>(size - 1, data[0] * 4);
  const auto dir = tlab::fuzz::scratchDir() / "idx";
  tlab::fuzz::writeInput("idx/train-images-idx3-ubyte", data + 1, split);
  tlab::fuzz::writeInput("idx/train-labels-idx1-ubyte", data + 1 + split, size - 1 - split);
  try {
    const auto ds = tlab::core::readIdx(dir);
    for (size_t i = 0; i < std::min<size_t>(ds.size(), 4); ++i) (void)ds.loadImage(i);
  } catch (const tlab::core::Error&) {
  }
  return 0;
}
