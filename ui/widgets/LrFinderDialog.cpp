#include "ui/widgets/LrFinderDialog.h"

#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include "ui/controllers/ProjectController.h"
#include "ui/workers/Async.h"

namespace tlab::ui {

LrFinderDialog::LrFinderDialog(ProjectController* project,
                               std::shared_ptr<const core::Dataset> dataset, int steps,
                               QWidget* parent)
    : QDialog(parent),
      project_(project),
      dataset_(std::move(dataset)),
      steps_(steps),
      cancel_(std::make_shared<std::atomic<bool>>(false)),
      done_(std::make_shared<std::atomic<int>>(0)),
      plot_(new QCustomPlot(this)),
      status_(new QLabel(tr("Sweeping the learning rate from 1e-7 to 1 \u2026"), this)),
      progress_(new QProgressBar(this)),
      apply_(new QPushButton(tr("&Apply suggested rate"), this)),
      cancelButton_(new QPushButton(tr("Cancel"), this)),
      task_(this) {
  setWindowTitle(tr("Find Learning Rate"));
  resize(640, 460);
  status_->setWordWrap(true);
  progress_->setRange(0, steps_);
  apply_->setEnabled(false);
  plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  plot_->xAxis->setLabel(tr("learning rate"));
  plot_->yAxis->setLabel(tr("loss (smoothed)"));
  auto* buttons = new QHBoxLayout;
  buttons->addStretch();
  buttons->addWidget(apply_);
  buttons->addWidget(cancelButton_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(status_);
  layout->addWidget(progress_);
  layout->addWidget(plot_, 1);
  layout->addLayout(buttons);

  auto* poll = new QTimer(this);
  poll->setInterval(100);
  connect(poll, &QTimer::timeout, this, [this] { progress_->setValue(done_->load()); });
  poll->start();
  connect(cancelButton_, &QPushButton::clicked, this, [this] {
    if (isRunning()) {
      *cancel_ = true;
    } else {
      reject();
    }
  });
  connect(apply_, &QPushButton::clicked, this, [this] {
    core::TrainConfig c = project_->project().config;
    c.lr = result_.suggested;
    project_->setConfig(c, tr("learning rate from the LR finder"));
    accept();
  });
}

LrFinderDialog::~LrFinderDialog() { *cancel_ = true; }

bool LrFinderDialog::isRunning() const { return task_.isRunning(); }

void LrFinderDialog::showEvent(QShowEvent* event) {
  QDialog::showEvent(event);
  start();
}

void LrFinderDialog::start() {
  if (started_) return;
  started_ = true;
  core::Project project = project_->project();
  project.runs.clear();
  auto source = dataset_;
  auto cancel = cancel_;
  auto done = done_;
  const int steps = steps_;
  auto work = [project, source, cancel, done, steps] {
    core::LrFinderOptions o;
    o.steps = steps;
    o.cancel = cancel.get();
    o.progress = [done](int step, double, double) { *done = step; };
    try {
      // The project's label edits and split, applied here rather than on the GUI thread.
      auto dataset = std::make_shared<const core::Dataset>(core::projectDataset(*source, project));
      return core::findLearningRate(project.config, dataset, o);
    } catch (const std::exception& e) {
      core::LrFinderResult failed;
      failed.note = std::string("failed: ") + e.what();
      return failed;
    }
  };
  task_.start(std::move(work), [this](core::LrFinderResult r) {
    result_ = std::move(r);
    showResult();
    emit finished();
  });
}

void LrFinderDialog::showResult() {
  progress_->setValue(progress_->maximum());
  cancelButton_->setText(tr("Close"));
  const auto& r = result_;
  if (r.lrs.empty() || r.suggested <= 0) {
    status_->setText(tr("No suggestion: %1").arg(QString::fromStdString(r.note)));
    return;
  }
  auto* curve = plot_->addGraph();
  curve->setPen(QPen(QColor(52, 101, 164), 2));
  curve->setData(QVector<double>(r.lrs.begin(), r.lrs.end()),
                 QVector<double>(r.smoothed.begin(), r.smoothed.end()));
  plot_->rescaleAxes();
  auto* mark = new QCPItemStraightLine(plot_);
  mark->point1->setCoords(r.suggested, 0);
  mark->point2->setCoords(r.suggested, 1);
  mark->setPen(QPen(QColor(204, 0, 0), 1.5, Qt::DashLine));
  plot_->replot();
  status_->setText(tr("Suggested learning rate: <b>%1</b> (%2)")
                       .arg(r.suggested, 0, 'g', 3)
                       .arg(QString::fromStdString(r.note).toHtmlEscaped()));
  apply_->setEnabled(true);
}

}  // namespace tlab::ui
