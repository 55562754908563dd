#pragma once
// Presenter mode's scales, in one place: the application font (MainWindow) and the training
// charts' text (TrainCharts) grow by the same factor; chart lines by their own.
#include <qcustomplot.h>
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

/// Scales what `plot` draws by factors relative to now (presenter mode on: the scales; off:
/// their inverses): every line and error bar `lines` times thicker, point markers `lines` times
/// larger, axis and legend text `fonts` times larger; then replots.
inline void scalePlot(QCustomPlot* plot, double lines, double fonts) {
  for (int i = 0; i < plot->plottableCount(); ++i) {
    QCPAbstractPlottable* p = plot->plottable(i);
    QPen pen = p->pen();
    pen.setWidthF(pen.widthF() * lines);
    p->setPen(pen);
    if (auto* g = qobject_cast<QCPGraph*>(p)) {
      QCPScatterStyle style = g->scatterStyle();
      if (!style.isNone()) {
        style.setSize(style.size() * lines);
        g->setScatterStyle(style);
      }
    }
  }
  for (QCPAxis* a : {plot->xAxis, plot->yAxis}) {
    a->setLabelFont(scaledFont(a->labelFont(), fonts));
    a->setTickLabelFont(scaledFont(a->tickLabelFont(), fonts));
  }
  plot->legend->setFont(scaledFont(plot->legend->font(), fonts));
  plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace tlab::ui
