#include "core/data/Transforms.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/Errors.h"

namespace tlab::core {
namespace {

cv::Mat matchChannels(const cv::Mat& in, int channels) {
  if (in.channels() == channels) return in;
  cv::Mat out;
  cv::cvtColor(in, out, channels == 1 ? cv::COLOR_RGB2GRAY : cv::COLOR_GRAY2RGB);
  return out;
}

cv::Rect randomResizedCropRect(int w, int h, const Augmentation& a, Rng& rng) {
  const double area = double(w) * h;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(a.minScale, a.maxScale);
    const double ratio = std::exp(rng.uniform(std::log(a.minRatio), std::log(a.maxRatio)));
    const int cw = int(std::lround(std::sqrt(target * ratio)));
    const int ch = int(std::lround(std::sqrt(target / ratio)));
    if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
      const int x = int(rng.below(uint64_t(w - cw + 1)));
      const int y = int(rng.below(uint64_t(h - ch + 1)));
      return {x, y, cw, ch};
    }
  }
  // Fallback: the largest centred crop within the ratio range.
  const double r = double(w) / h;
  int cw = w, ch = h;
  if (r < a.minRatio) ch = int(std::lround(w / a.minRatio));
  if (r > a.maxRatio) cw = int(std::lround(h * a.maxRatio));
  return {(w - cw) / 2, (h - ch) / 2, cw, ch};
}

cv::Mat evalView(const cv::Mat& in, const Preprocess& p) {
  const int size = p.inputSize;
  const double fraction = std::clamp(p.cropFraction, 0.05, 1.0);
  const int shorter = std::max(size, int(std::lround(size / fraction)));
  const double scale = double(shorter) / std::min(in.cols, in.rows);
  const int w = std::max(size, int(std::lround(in.cols * scale)));
  const int h = std::max(size, int(std::lround(in.rows * scale)));
  cv::Mat resized;
  const int interp = scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR;
  cv::resize(in, resized, cv::Size(w, h), 0, 0, interp);
  return resized(cv::Rect((w - size) / 2, (h - size) / 2, size, size)).clone();
}

void colourJitter(cv::Mat& img, const Augmentation& a, Rng& rng) {
  if (a.brightness <= 0 && a.contrast <= 0 && a.saturation <= 0) return;
  const double b = a.brightness > 0 ? rng.uniform(1 - a.brightness, 1 + a.brightness) : 1.0;
  const double c = a.contrast > 0 ? rng.uniform(1 - a.contrast, 1 + a.contrast) : 1.0;
  const double s = a.saturation > 0 ? rng.uniform(1 - a.saturation, 1 + a.saturation) : 1.0;
  cv::Mat f, grey;
  img.convertTo(f, CV_32F, b);
  if (f.channels() == 3) {
    cv::cvtColor(f, grey, cv::COLOR_RGB2GRAY);
  } else {
    grey = f;
  }
  if (c != 1.0) {  // blend towards the mean grey level
    const double shift = (1.0 - c) * cv::mean(grey)[0];
    f.convertTo(f, -1, c, shift);
    if (f.channels() == 3) grey.convertTo(grey, -1, c, shift);
  }
  if (s != 1.0 && f.channels() == 3) {  // blend towards the grey image
    cv::Mat grey3;
    cv::cvtColor(grey, grey3, cv::COLOR_GRAY2RGB);
    cv::addWeighted(f, s, grey3, 1.0 - s, 0.0, f);
  }
  f.convertTo(img, CV_8U);  // saturates to [0, 255]
}

}  // namespace

cv::Mat prepareImage(const cv::Mat& input, const Preprocess& p, const Augmentation& a, Rng& rng) {
  if (input.empty() || input.depth() != CV_8U || (input.channels() != 1 && input.channels() != 3)) {
    throw InvalidArgument("prepareImage: expected an 8-bit image with 1 or 3 channels");
  }
  if (p.inputSize <= 0 || (p.channels != 1 && p.channels != 3)) {
    throw InvalidArgument("prepareImage: invalid preprocessing (size or channels)");
  }
  const cv::Mat img = matchChannels(input, p.channels);
  if (!a.enabled) return evalView(img, p);

  const cv::Rect crop = randomResizedCropRect(img.cols, img.rows, a, rng);
  cv::Mat out;
  cv::resize(img(crop), out, cv::Size(p.inputSize, p.inputSize), 0, 0, cv::INTER_LINEAR);
  if (rng.uniform() < a.hflipProbability) cv::flip(out, out, 1);
  if (a.rotationDegrees > 0) {
    const double angle = rng.uniform(-a.rotationDegrees, a.rotationDegrees);
    const cv::Point2f centre(out.cols / 2.0f, out.rows / 2.0f);
    const cv::Mat m = cv::getRotationMatrix2D(centre, angle, 1.0);
    cv::warpAffine(out, out, m, out.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
  }
  colourJitter(out, a, rng);
  return out;
}

void normalizeToChw(const cv::Mat& img, const Preprocess& p, float* out) {
  if (img.rows != p.inputSize || img.cols != p.inputSize || img.channels() != p.channels ||
      img.depth() != CV_8U) {
    throw InvalidArgument("normalizeToChw: image does not match the preprocessing shape");
  }
  const int c = p.channels;
  const size_t plane = size_t(p.inputSize) * p.inputSize;
  float scale[3], bias[3];
  for (int k = 0; k < c; ++k) {
    scale[k] = 1.0f / (255.0f * p.std[k]);
    bias[k] = -p.mean[k] / p.std[k];
  }
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* row = img.ptr<uint8_t>(y);
    const size_t base = size_t(y) * img.cols;
    for (int x = 0; x < img.cols; ++x) {
      for (int k = 0; k < c; ++k) {
        out[k * plane + base + x] = row[x * c + k] * scale[k] + bias[k];
      }
    }
  }
}

}  // namespace tlab::core
