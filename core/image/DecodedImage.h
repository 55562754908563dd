#pragma once
// What decoding one image gives: 8-bit pixels with 1 or 3 channels (RGB order), or an error
// phrased for the user. Shared by the decoder (core/image) and the datasets (core/dataset),
// which depend on core/image and never the other way round.
#include <string>

#include <opencv2/core/mat.hpp>

namespace tlab::core {

struct DecodedImage {
  cv::Mat pixels;
  std::string error;
  bool ok() const { return error.empty() && !pixels.empty(); }
};

}  // namespace tlab::core
