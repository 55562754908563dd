#include "ui/widgets/CalibrationView.h"

#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include "core/train/Calibration.h"

namespace tlab::ui {
namespace {
const QColor kBefore(170, 170, 170), kAfter(52, 101, 164), kThreshold(206, 92, 0);
}

CalibrationView::CalibrationView(QWidget* parent)
    : QWidget(parent),
      reliability_(new QCustomPlot(this)),
      coverage_(new QCustomPlot(this)),
      summary_(new QLabel(this)),
      coverageLabel_(new QLabel(this)),
      slider_(new QSlider(Qt::Horizontal, this)) {
  summary_->setWordWrap(true);
  coverageLabel_->setWordWrap(true);
  slider_->setRange(0, 100);
  slider_->setValue(int(100 * core::kDefaultUnsureBelow + 0.5));
  slider_->setToolTip(
      tr("Predictions whose calibrated top probability is below this are "
         "reported as unsure (Predict, exported models)"));
  for (auto* plot : {reliability_, coverage_}) {
    plot->setMinimumSize(260, 220);
    plot->xAxis->setRange(0, 1);
    plot->yAxis->setRange(0, 1.02);
  }
  reliability_->xAxis->setLabel(tr("confidence (top probability)"));
  reliability_->yAxis->setLabel(tr("accuracy"));
  reliability_->legend->setVisible(true);
  reliability_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  coverage_->xAxis->setLabel(tr("coverage (share of predictions kept)"));
  coverage_->yAxis->setLabel(tr("accuracy of those kept"));

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  auto* plots = new QHBoxLayout;
  plots->addWidget(reliability_, 1);
  plots->addWidget(coverage_, 1);
  layout->addLayout(plots, 1);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Unsure below"), this));
  row->addWidget(slider_, 1);
  layout->addLayout(row);
  layout->addWidget(coverageLabel_);
  connect(slider_, &QSlider::valueChanged, this, [this] {
    showThreshold();
    emit thresholdChanged(threshold());
  });
  clear();
}

void CalibrationView::clear() {
  confidence_.clear();
  correct_.clear();
  reliability_->clearPlottables();
  reliability_->clearGraphs();
  coverage_->clearPlottables();
  coverage_->clearGraphs();
  coverage_->clearItems();
  reliability_->replot();
  coverage_->replot();
  summary_->setText(tr("Calibration appears here after a run with a validation split."));
  coverageLabel_->clear();
}

double CalibrationView::threshold() const { return slider_->value() / 100.0; }

void CalibrationView::setThreshold(double t) { slider_->setValue(int(100 * t + 0.5)); }

void CalibrationView::setData(const std::vector<float>& logits, const std::vector<int32_t>& labels,
                              int64_t classes, double temperature, const QString& split) {
  clear();
  if (labels.empty() || classes < 2 || logits.size() != labels.size() * size_t(classes)) return;
  temperature_ = temperature;
  const auto before = core::topPredictions(logits, classes, labels);
  const auto after = core::topPredictions(logits, classes, labels, temperature);
  const auto rb = core::reliability(before.confidence, before.correct);
  const auto ra = core::reliability(after.confidence, after.correct);
  eceBefore_ = rb.ece;
  eceAfter_ = ra.ece;
  confidence_ = after.confidence;
  correct_ = after.correct;

  // Reliability diagram: one bar pair per bin that has samples, and the diagonal.
  const double width = 1.0 / double(rb.bins.size());
  auto* diagonal = reliability_->addGraph();
  diagonal->setData({0.0, 1.0}, {0.0, 1.0});
  diagonal->setPen(QPen(Qt::black, 1, Qt::DashLine));
  diagonal->setName(tr("perfectly calibrated"));
  const auto addBars = [&](const core::Reliability& r, const QColor& colour, double offset,
                           const QString& name) {
    auto* bars = new QCPBars(reliability_->xAxis, reliability_->yAxis);
    bars->setName(name);
    bars->setWidth(width * 0.42);
    bars->setPen(Qt::NoPen);
    bars->setBrush(colour);
    QVector<double> keys, values;
    for (const auto& bin : r.bins) {
      if (bin.count == 0) continue;
      keys << 0.5 * (bin.lower + bin.upper) + offset * width;
      values << bin.accuracy;
    }
    bars->setData(keys, values);
  };
  addBars(rb, kBefore, -0.22, tr("before (ECE %1)").arg(rb.ece, 0, 'f', 3));
  addBars(ra, kAfter, 0.22,
          tr("after temperature %1 (ECE %2)").arg(temperature, 0, 'f', 2).arg(ra.ece, 0, 'f', 3));
  reliability_->replot();

  // Accuracy against coverage of the calibrated confidences.
  QVector<double> x, y;
  for (const auto& p : core::coverageCurve(confidence_, correct_)) {
    x << p.coverage;
    y << p.accuracy;
  }
  auto* curve = coverage_->addGraph();
  curve->setData(x, y);
  curve->setPen(QPen(kAfter, 2));
  double lowest = 1;
  for (double v : y) lowest = std::min(lowest, v);
  coverage_->yAxis->setRange(std::max(0.0, lowest - 0.05), 1.01);
  // T = 1: no validation split, or a fit that did not beat T = 1 on held-out validation folds.
  const QString scaling =
      temperature == 1.0
          ? tr("No temperature scaling (no validation split, or the fitted temperature did not "
               "beat 1 on held-out validation folds)")
          : tr("Temperature %1 fitted on the validation split").arg(temperature, 0, 'f', 3);
  summary_->setText(tr("%1, %2 samples. %3: expected calibration error %4 before, %5 after (15 "
                       "bins; lower is better).")
                        .arg(split)
                        .arg(labels.size())
                        .arg(scaling)
                        .arg(rb.ece, 0, 'f', 4)
                        .arg(ra.ece, 0, 'f', 4));
  showThreshold();
}

void CalibrationView::showThreshold() {
  coverage_->clearItems();
  if (confidence_.empty()) {
    coverageLabel_->setText(tr("Unsure below %1%").arg(slider_->value()));
    coverage_->replot();
    return;
  }
  const auto at = core::coverageAt(confidence_, correct_, threshold());
  const auto all = core::coverageAt(confidence_, correct_, 0.0);
  auto* marker = new QCPItemTracer(coverage_);
  marker->position->setCoords(at.coverage, at.accuracy);
  marker->setStyle(QCPItemTracer::tsCircle);
  marker->setSize(9);
  marker->setPen(QPen(kThreshold, 2));
  marker->setBrush(kThreshold);
  coverage_->replot();
  coverageLabel_->setText(
      tr("Unsure below %1%: %2% of predictions are kept, with accuracy %3 (all predictions: %4); "
         "%5 reported as unsure.")
          .arg(slider_->value())
          .arg(100 * at.coverage, 0, 'f', 1)
          .arg(at.accuracy, 0, 'f', 3)
          .arg(all.accuracy, 0, 'f', 3)
          .arg(int64_t(confidence_.size()) - at.covered));
}

QString CalibrationView::summaryText() const { return summary_->text(); }
QString CalibrationView::coverageText() const { return coverageLabel_->text(); }

}  // namespace tlab::ui
