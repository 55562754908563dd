#include "core/explain/Overlay.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/Errors.h"
#include "core/data/Transforms.h"

namespace tlab::core {

// Mirrors evalView() in core/data/Transforms.cpp: the same rounding, so the region is exact.
cv::Rect2d evalViewRegion(int cols, int rows, const Preprocess& p) {
  const int size = p.inputSize;
  const double fraction = std::clamp(p.cropFraction, 0.05, 1.0);
  const int shorter = std::max(size, int(std::lround(size / fraction)));
  const double scale = double(shorter) / std::min(cols, rows);
  const int w = std::max(size, int(std::lround(cols * scale)));
  const int h = std::max(size, int(std::lround(rows * scale)));
  const double sx = double(w) / cols, sy = double(h) / rows;
  return {((w - size) / 2) / sx, ((h - size) / 2) / sy, size / sx, size / sy};
}

std::pair<int, int> inputToImagePixel(std::pair<int, int> pixel, int cols, int rows,
                                      const Preprocess& p) {
  const auto r = evalViewRegion(cols, rows, p);
  const double x = r.x + (pixel.first + 0.5) * r.width / p.inputSize - 0.5;
  const double y = r.y + (pixel.second + 0.5) * r.height / p.inputSize - 0.5;
  return {std::clamp(int(std::lround(x)), 0, cols - 1),
          std::clamp(int(std::lround(y)), 0, rows - 1)};
}

cv::Mat overlayHeatmap(const cv::Mat& image, const at::Tensor& map, const Preprocess& p,
                       double opacity) {
  if (image.empty() || image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3))
    throw InvalidArgument("overlayHeatmap: expected an 8-bit grey or RGB image");
  if (map.dim() != 2) throw InvalidArgument("overlayHeatmap: expected a map [H, W]");
  opacity = std::clamp(opacity, 0.0, 1.0);
  cv::Mat rgb;
  if (image.channels() == 1) {
    cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
  } else {
    rgb = image.clone();
  }
  const auto m = map.to(torch::kCPU, torch::kFloat).contiguous();
  const cv::Mat small(int(m.size(0)), int(m.size(1)), CV_32F,
                      const_cast<float*>(m.data_ptr<float>()));
  const auto region = evalViewRegion(image.cols, image.rows, p);
  const cv::Rect seen(
      cv::Point(int(std::floor(region.x)), int(std::floor(region.y))),
      cv::Point(int(std::ceil(region.x + region.width)), int(std::ceil(region.y + region.height))));
  const cv::Rect clipped = seen & cv::Rect(0, 0, image.cols, image.rows);
  cv::Mat dimmed;
  rgb.convertTo(dimmed, -1, 0.45);  // outside what the network saw
  cv::Mat out = dimmed;
  if (clipped.area() > 0) {
    cv::Mat resized, map8, colour;
    cv::resize(small, resized, clipped.size(), 0, 0, cv::INTER_LINEAR);
    resized.convertTo(map8, CV_8U, 255.0);
    cv::applyColorMap(map8, colour, cv::COLORMAP_JET);
    cv::cvtColor(colour, colour, cv::COLOR_BGR2RGB);
    cv::Mat blended;
    cv::addWeighted(rgb(clipped), 1.0 - opacity, colour, opacity, 0.0, blended);
    blended.copyTo(out(clipped));
  }
  return out;
}

}  // namespace tlab::core
