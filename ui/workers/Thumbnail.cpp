#include "ui/workers/Thumbnail.h"

#include <QGuiApplication>
#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace tlab::ui {

QImage toQImage(const cv::Mat& pixels) {
  const auto format = pixels.channels() == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888;
  return QImage(pixels.data, pixels.cols, pixels.rows, int(pixels.step), format).copy();
}

cv::Mat rgbView(const QImage& rgb) {
  if (rgb.format() != QImage::Format_RGB888)
    throw std::invalid_argument("rgbView: the image is not RGB888");
  return cv::Mat(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()),
                 size_t(rgb.bytesPerLine()));
}

QImage sampleImage(const core::Dataset& ds, size_t sample, int maxSide, qreal devicePixelRatio) {
  const core::DecodedImage d = ds.loadImage(sample);
  if (!d.ok()) return {};
  cv::Mat rgb = d.pixels;
  if (rgb.channels() == 1) cv::cvtColor(rgb, rgb, cv::COLOR_GRAY2RGB);
  const qreal ratio = std::max<qreal>(1.0, devicePixelRatio);
  const double scale = maxSide * ratio / std::max(rgb.cols, rgb.rows);
  cv::Mat out;
  cv::resize(rgb, out, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_NEAREST);
  QImage image = toQImage(out);
  image.setDevicePixelRatio(ratio);
  return image;
}

qreal screenPixelRatio() { return qApp ? qApp->devicePixelRatio() : 1.0; }

}  // namespace tlab::ui
