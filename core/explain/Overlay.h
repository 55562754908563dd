#pragma once
// Drawing a class-activation map over the image it explains. The network sees the evaluation
// view (shorter side resized, centre crop); these functions map between that view and the
// original image's own pixels, so overlays and peaks are in the coordinates the user knows.
#include <opencv2/core/mat.hpp>
#include <utility>

namespace at {
class Tensor;
}

namespace tlab::core {
struct Preprocess;

/// The rectangle of an image of cols x rows pixels that the evaluation view shows the network.
cv::Rect2d evalViewRegion(int cols, int rows, const Preprocess& preprocess);
/// A pixel (x, y) of the network's input mapped to the original image's pixel coordinates.
std::pair<int, int> inputToImagePixel(std::pair<int, int> inputPixel, int cols, int rows,
                                      const Preprocess& preprocess);
/// `image` (8-bit grey or RGB, the original) with `map` ([H, W] in [0, 1] at the network's input
/// resolution) drawn over the region the network saw in the "jet" colours at `opacity` (0..1);
/// the part it did not see is dimmed. Returns 8-bit RGB of the image's size.
cv::Mat overlayHeatmap(const cv::Mat& image, const at::Tensor& map, const Preprocess& preprocess,
                       double opacity = 0.5);

}  // namespace tlab::core
