#include "ui/widgets/ClassBalanceChart.h"
#include "ui/widgets/PlotLabels.h"

#include <qcustomplot.h>
#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>

namespace tlab::ui {

ClassBalanceChart::ClassBalanceChart(QWidget* parent)
    : QWidget(parent), plot_(new QCustomPlot(this)), warning_(new QLabel(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_, 1);
  layout->addWidget(warning_);
  warning_->setWordWrap(true);
  warning_->setStyleSheet(QStringLiteral("color: #b35900;"));
  warning_->hide();
  plot_->setMinimumHeight(220);
  // The legend is a row of its own above the bars: inside the axis rect it covered the last
  // class's bar (found by a new user).
  plot_->legend->setVisible(true);
  plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot_->legend->setBorderPen(Qt::NoPen);
  plot_->axisRect()->insetLayout()->take(plot_->legend);
  auto* header = new QCPLayoutGrid;  // a stretch, then the legend at its natural size
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, header);
  plot_->plotLayout()->setRowStretchFactor(0, 0.001);
  header->addElement(0, 0, new QCPLayoutElement(plot_));
  header->addElement(0, 1, plot_->legend);
  header->setColumnStretchFactor(0, 1);
  header->setColumnStretchFactor(1, 0.001);
  plot_->yAxis->setLabel(tr("samples"));
}

void ClassBalanceChart::setDataset(const core::Dataset& ds) {
  plot_->clearPlottables();
  QVector<double> ticks;
  QVector<QString> labels;
  for (size_t c = 0; c < ds.numClasses(); ++c) {
    ticks << double(c + 1);
    labels << QString::fromStdString(ds.classNames[c]);
  }
  auto textTicker = QSharedPointer<QCPAxisTickerText>::create();
  textTicker->addTicks(ticks, labels);
  plot_->xAxis->setTicker(textTicker);
  fitRotatedTickLabels(plot_, QStringList(labels.begin(), labels.end()), 6);
  plot_->xAxis->setRange(0.3, double(ds.numClasses()) + 0.7);

  struct Part {
    core::Split split;
    const char* name;
    QColor colour;
  };
  const Part parts[] = {{core::Split::None, "unassigned", QColor(150, 150, 150)},
                        {core::Split::Train, "train", QColor(52, 101, 164)},
                        {core::Split::Val, "val", QColor(245, 121, 0)},
                        {core::Split::Test, "test", QColor(78, 154, 6)}};
  QCPBars* below = nullptr;
  for (const Part& p : parts) {
    if (ds.splitCount(p.split) == 0) continue;
    auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars->setName(tr(p.name));
    bars->setBrush(p.colour);
    bars->setPen(QPen(p.colour.darker(130)));
    bars->setWidth(0.7);
    const auto counts = ds.classCounts(p.split);
    QVector<double> values;
    for (auto v : counts) values << double(v);
    bars->setData(ticks, values);
    if (below) bars->moveAbove(below);
    below = bars;
  }
  const auto total = ds.classCounts();
  double maxTotal = 1;
  for (auto v : total) maxTotal = std::max(maxTotal, double(v));
  plot_->yAxis->setRange(0, maxTotal * 1.15);
  plot_->replot(QCustomPlot::rpQueuedReplot);

  imbalance_ = 0;
  if (!total.empty()) {
    const auto [mn, mx] = std::minmax_element(total.begin(), total.end());
    if (*mn > 0) imbalance_ = double(*mx) / double(*mn);
  }
  if (imbalance_ > 3.0) {
    warning_->setText(tr("Imbalanced classes: the largest has %1x the samples of the smallest. "
                         "Consider a class-weighted loss or collecting more samples.")
                          .arg(imbalance_, 0, 'f', 1));
    warning_->show();
  } else {
    warning_->hide();
  }
}

}  // namespace tlab::ui
