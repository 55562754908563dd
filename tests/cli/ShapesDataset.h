#pragma once
// A small three-class image dataset for the CLI tests: noise with a square, a horizontal bar or
// a vertical bar; 40 train + 10 val + 10 test per class, written as HDF5.
#include <opencv2/imgproc.hpp>

#include "core/TestImages.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/util/Random.h"

namespace tlab::test {

inline cv::Mat shapeImage(int cls, int seed) {
  cv::Mat m(28, 28, CV_8UC1);
  tlab::core::Rng rng(uint64_t(seed) * 31 + 7);
  for (int i = 0; i < 28 * 28; ++i) m.data[i] = uint8_t(rng.below(60));
  const cv::Rect shapes[3] = {{9, 9, 10, 10}, {3, 11, 22, 6}, {11, 3, 6, 22}};
  cv::rectangle(m, shapes[cls], cv::Scalar(230), cv::FILLED);
  return m;
}

inline std::filesystem::path makeShapesDataset(const TempDir& dir) {
  const std::filesystem::path p = dir / "shapes.h5";
  tlab::core::Hdf5Writer w(p, 28, 28, 1, {"square", "horizontal", "vertical"});
  for (int i = 0; i < 180; ++i) {
    const auto split = i < 120 ? tlab::core::Split::Train
                               : (i < 150 ? tlab::core::Split::Val : tlab::core::Split::Test);
    w.append(shapeImage(i % 3, i), i % 3, split);
  }
  w.close();
  return p;
}

}  // namespace tlab::test
