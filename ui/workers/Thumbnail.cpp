#include "ui/workers/Thumbnail.h"

#include <QGuiApplication>
#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace tlab::ui {

QImage sampleImage(const core::Dataset& ds, size_t sample, int maxSide, qreal devicePixelRatio) {
  const core::DecodedImage d = ds.loadImage(sample);
  if (!d.ok()) return {};
  cv::Mat rgb = d.pixels;
  if (rgb.channels() == 1) cv::cvtColor(rgb, rgb, cv::COLOR_GRAY2RGB);
  const qreal ratio = std::max<qreal>(1.0, devicePixelRatio);
  const double scale = maxSide * ratio / std::max(rgb.cols, rgb.rows);
  cv::Mat out;
  cv::resize(rgb, out, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_NEAREST);
  QImage image = QImage(out.data, out.cols, out.rows, int(out.step), QImage::Format_RGB888).copy();
  image.setDevicePixelRatio(ratio);
  return image;
}

qreal screenPixelRatio() { return qApp ? qApp->devicePixelRatio() : 1.0; }

}  // namespace tlab::ui
