#pragma once
// Presenter mode's scales, in one place: the application font (MainWindow) and the training
// charts' text (TrainCharts) grow by the same factor; chart lines by their own.
#include <QFont>
#include <algorithm>
#include <cmath>

namespace tlab::ui {

inline constexpr double kPresenterFontScale = 1.5;
inline constexpr double kPresenterLineScale = 2.0;

/// `font` `factor` times larger, whether its size is in points or in pixels.
inline QFont scaledFont(QFont font, double factor) {
  if (font.pointSizeF() > 0) {
    font.setPointSizeF(font.pointSizeF() * factor);
  } else {
    font.setPixelSize(std::max(1, int(std::lround(font.pixelSize() * factor))));
  }
  return font;
}

}  // namespace tlab::ui
