#include "ui/widgets/PlotLabels.h"

#include <qcustomplot.h>

#include <QFontMetrics>
#include <QStringList>
#include <cmath>

namespace tlab::ui {

int fitRotatedTickLabels(QCustomPlot* plot, const QStringList& labels, int straightUpTo) {
  const bool rotate = labels.size() > straightUpTo;
  plot->xAxis->setTickLabelRotation(rotate ? 45 : 0);
  const QFontMetrics metrics(plot->xAxis->tickLabelFont());
  int margin = 0;
  if (!labels.isEmpty()) {
    const int width = metrics.horizontalAdvance(labels.last());
    // A label turned by 45 degrees reaches (width + height) / sqrt(2) to the right of its tick;
    // unrotated, half its width.
    margin = rotate ? int(std::ceil((width + metrics.height()) / std::sqrt(2.0))) : width / 2;
    margin += 4;
  }
  QCPAxisRect* rect = plot->axisRect();
  rect->setAutoMargins(QCP::msLeft | QCP::msTop | QCP::msBottom);
  QMargins m = rect->margins();
  m.setRight(std::max(margin, 12));
  rect->setMargins(m);
  return m.right();
}

}  // namespace tlab::ui
