#pragma once
// Pictures between OpenCV and Qt: cv::Mat <-> QImage in one place, and the dataset thumbnails.
//
// sampleImage() decodes one dataset sample to an RGB QImage whose longer side is `maxSide` logical
// pixels (area averaging when shrinking, nearest neighbour when enlarging small images such as
// 28x28). On a HiDPI screen (`devicePixelRatio` > 1) the image holds maxSide x ratio device pixels
// and carries the ratio, so it is drawn at the same logical size but sharp. A null image when the
// sample cannot be decoded. Thread-safe: called from worker threads.
#include <QImage>

#include "core/dataset/Dataset.h"

namespace cv {
class Mat;
}

namespace tlab::ui {

/// A deep copy of 8-bit pixels (1 channel: Grayscale8; 3 channels, RGB order: RGB888).
QImage toQImage(const cv::Mat& pixels);
/// A view (no copy) of an RGB888 image's pixels as a cv::Mat CV_8UC3; valid while `rgb` lives
/// unchanged. Throws std::invalid_argument for another format.
cv::Mat rgbView(const QImage& rgb);

/// Side of the thumbnails in the sample grid and the evaluation gallery, in pixels.
constexpr int kThumbnailSide = 96;

QImage sampleImage(const core::Dataset& dataset, size_t sample, int maxSide,
                   qreal devicePixelRatio = 1.0);

/// The highest device pixel ratio of the screens (1 on ordinary screens and offscreen).
/// GUI thread only: read it there and pass it to sampleImage() in the worker.
qreal screenPixelRatio();

}  // namespace tlab::ui
