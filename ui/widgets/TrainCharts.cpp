#include "ui/widgets/TrainCharts.h"

#include <qcustomplot.h>
#include <QGridLayout>

#include "ui/widgets/PresenterMode.h"

namespace tlab::ui {
namespace {

constexpr double kSmoothing = 0.9;  // exponential moving average of the per-batch values

QCPGraph* addGraph(QCustomPlot* plot, const QString& name, const QColor& colour, double width,
                   bool markers = false, double markerSize = 6) {
  QCPGraph* g = plot->addGraph();
  g->setName(name);
  QPen pen(colour);
  pen.setWidthF(width);
  g->setPen(pen);
  if (markers) {
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, colour, Qt::white, markerSize));
  }
  return g;
}

}  // namespace

TrainCharts::TrainCharts(QWidget* parent)
    : QWidget(parent),
      loss_(makePlot(tr("loss"))),
      accuracy_(makePlot(tr("accuracy"))),
      lr_(makePlot(tr("learning rate"))),
      compare_(makePlot(tr("val accuracy"))) {
  lossRaw_ = addGraph(loss_, tr("train (batch)"), QColor(52, 101, 164, 70), 1);
  lossSmooth_ = addGraph(loss_, tr("train (smoothed)"), QColor(52, 101, 164), 2);
  lossVal_ = addGraph(loss_, tr("validation"), QColor(204, 0, 0), 2, true);
  accRaw_ = addGraph(accuracy_, tr("train (batch)"), QColor(78, 154, 6, 70), 1);
  accSmooth_ = addGraph(accuracy_, tr("train (smoothed)"), QColor(78, 154, 6), 2);
  accVal_ = addGraph(accuracy_, tr("validation"), QColor(204, 0, 0), 2, true);
  lrGraph_ = addGraph(lr_, tr("learning rate"), QColor(117, 80, 123), 2);
  accuracy_->yAxis->setRange(0, 1);
  compare_->yAxis->setRange(0, 1);
  for (QCustomPlot* p : {accuracy_, compare_})  // rising curves: keep the legend out of the way
    p->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  compare_->xAxis->setLabel(tr("epoch"));
  compare_->yAxis->setLabel(tr("val accuracy (ticked runs)"));
  compareHint_ = new QCPItemText(compare_);
  compareHint_->position->setType(QCPItemPosition::ptAxisRectRatio);
  compareHint_->position->setCoords(0.5, 0.5);
  compareHint_->setText(
      tr("Tick runs in the run list to compare\ntheir validation accuracy epoch by epoch"));
  compareHint_->setColor(palette().color(QPalette::Disabled, QPalette::WindowText));
  compare_->legend->setVisible(false);
  lr_->legend->setVisible(false);
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->addWidget(loss_, 0, 0);
  grid->addWidget(accuracy_, 0, 1);
  grid->addWidget(lr_, 1, 0);
  grid->addWidget(compare_, 1, 1);
}

QCustomPlot* TrainCharts::makePlot(const QString& yLabel) {
  auto* plot = new QCustomPlot(this);
  plot->setMinimumSize(240, 160);
  plot->yAxis->setLabel(yLabel);
  plot->xAxis->setLabel(tr("step"));
  plot->legend->setVisible(true);
  QFont f = plot->legend->font();
  f.setPointSizeF(f.pointSizeF() * 0.85);
  plot->legend->setFont(f);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  return plot;
}

void TrainCharts::setPresenterMode(bool on) {
  const double lines = on ? kPresenterLineScale : 1.0, fonts = on ? kPresenterFontScale : 1.0;
  if (lines == lineScale_) return;
  const double l = lines / lineScale_, f = fonts / fontScale_;
  for (QCustomPlot* p : {loss_, accuracy_, lr_, compare_}) scalePlot(p, l, f);
  compareHint_->setFont(scaledFont(compareHint_->font(), f));
  lr_->setVisible(!on);  // a projector shows the two curves that tell the story, large
  compare_->setVisible(!on);
  lineScale_ = lines;
  fontScale_ = fonts;
}

void TrainCharts::clear() {
  for (QCPGraph* g : {lossRaw_, lossSmooth_, lossVal_, accRaw_, accSmooth_, accVal_, lrGraph_})
    g->data()->clear();
  smoothLoss_ = smoothAcc_ = 0;
  correction_ = 1;
  lastStep_ = 0;
  for (QCustomPlot* p : {loss_, accuracy_, lr_}) p->replot(QCustomPlot::rpQueuedReplot);
}

void TrainCharts::appendBatches(const QVector<BatchPoint>& points) {
  if (points.isEmpty()) return;
  for (const BatchPoint& p : points) {
    // Exponential moving average with bias correction (no lag towards a zero start).
    smoothLoss_ = kSmoothing * smoothLoss_ + (1 - kSmoothing) * p.loss;
    smoothAcc_ = kSmoothing * smoothAcc_ + (1 - kSmoothing) * p.accuracy;
    correction_ *= kSmoothing;
    lossRaw_->addData(p.step, p.loss);
    lossSmooth_->addData(p.step, smoothLoss_ / (1 - correction_));
    accRaw_->addData(p.step, p.accuracy);
    accSmooth_->addData(p.step, smoothAcc_ / (1 - correction_));
    lrGraph_->addData(p.step, p.learningRate);
    lastStep_ = p.step;
  }
  rescale(loss_);
  rescale(lr_);
  accuracy_->xAxis->rescale();
  accuracy_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainCharts::appendEpoch(const core::EpochMetrics& e) {
  lossVal_->addData(lastStep_, e.valLoss);
  accVal_->addData(lastStep_, e.valAccuracy);
  rescale(loss_);
  accuracy_->replot(QCustomPlot::rpQueuedReplot);
}

void TrainCharts::rescale(QCustomPlot* plot) {
  plot->rescaleAxes();
  plot->replot(QCustomPlot::rpQueuedReplot);
}

void TrainCharts::setOverlays(const std::vector<core::RunRecord>& runs) {
  compare_->clearGraphs();
  static const QColor palette[] = {QColor(52, 101, 164), QColor(204, 0, 0),
                                   QColor(78, 154, 6),   QColor(245, 121, 0),
                                   QColor(117, 80, 123), QColor(193, 125, 17)};
  int i = 0;
  double maxEpoch = 1;
  for (const auto& r : runs) {
    if (r.history.empty()) continue;
    QCPGraph* g = addGraph(compare_, QString::fromStdString(r.id + " " + r.name), palette[i++ % 6],
                           2 * lineScale_, true, 6 * lineScale_);
    for (const auto& e : r.history) {
      g->addData(e.epoch, e.valAccuracy);
      maxEpoch = std::max(maxEpoch, double(e.epoch));
    }
  }
  compare_->xAxis->setRange(0.5, maxEpoch + 0.5);
  const bool any = compare_->graphCount() > 0;
  compare_->legend->setVisible(any);
  compareHint_->setVisible(!any);
  compare_->replot(QCustomPlot::rpQueuedReplot);
}

bool TrainCharts::compareHintShown() const { return compareHint_->visible(); }

int TrainCharts::lossPointCount() const { return lossRaw_->dataCount(); }

}  // namespace tlab::ui
