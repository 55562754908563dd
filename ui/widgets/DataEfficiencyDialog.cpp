#include "ui/widgets/DataEfficiencyDialog.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QCloseEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <set>

#include "core/Errors.h"
#include "core/util/FileUtil.h"
#include "ui/controllers/DataEfficiencyController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/widgets/PresenterMode.h"

namespace tlab::ui {
namespace {

struct StrategyChoice {
  core::Strategy strategy;
  const char* label;
  bool checked;
  QColor colour;
};
const StrategyChoice kChoices[] = {
    {core::Strategy::LinearProbe, "Linear probe (pre-trained, frozen)", true, QColor(31, 119, 180)},
    {core::Strategy::FinetuneLast, "Fine-tune last stages", false, QColor(44, 160, 44)},
    {core::Strategy::Full, "Full fine-tune", false, QColor(148, 103, 189)},
    {core::Strategy::Scratch, "Same architecture from scratch", true, QColor(214, 39, 40)},
};

QColor colourOf(core::Strategy s) {
  for (const auto& c : kChoices)
    if (c.strategy == s) return c.colour;
  return Qt::black;
}

}  // namespace

DataEfficiencyDialog::DataEfficiencyDialog(ProjectController* project,
                                           std::shared_ptr<const core::Dataset> dataset,
                                           QWidget* parent)
    : QDialog(parent),
      project_(project),
      dataset_(std::move(dataset)),
      controller_(new DataEfficiencyController(this)),
      sizes_(new QLineEdit(QStringLiteral("1, 2, 5, 10, 20, 50, 100"), this)),
      seeds_(new QSpinBox(this)),
      start_(new QPushButton(tr("&Start"), this)),
      stop_(new QPushButton(tr("S&top"), this)),
      save_(new QPushButton(tr("Sa&ve Results\u2026"), this)),
      status_(new QLabel(this)),
      progress_(new QProgressBar(this)),
      plot_(new QCustomPlot(this)),
      table_(new QTableWidget(this)) {
  setWindowTitle(tr("Data-Efficiency Curve"));
  resize(860, 720);
  const auto& cfg = project_->project().config;
  auto* form = new QFormLayout;
  form->addRow(tr("Backbone:"),
               new QLabel(QString::fromStdString(cfg.backbone) +
                              (cfg.imageSize > 0 ? tr(" at %1 px").arg(cfg.imageSize) : QString()),
                          this));
  auto* boxes = new QVBoxLayout;
  for (const auto& c : kChoices) {
    auto* box = new QCheckBox(tr(c.label), this);
    box->setChecked(c.checked);
    strategyBoxes_.insert(int(c.strategy), box);
    boxes->addWidget(box);
  }
  form->addRow(tr("Strategies:"), boxes);
  sizes_->setToolTip(
      tr("Labelled training samples per class, comma-separated. Sizes above the "
         "smallest class are replaced by what that class has."));
  form->addRow(tr("Samples per class:"), sizes_);
  seeds_->setRange(1, 20);
  seeds_->setValue(3);
  seeds_->setToolTip(tr("Seeded subsamples per point: the spread shows how much luck matters"));
  form->addRow(tr("Seeds:"), seeds_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(stop_);
  buttons->addStretch();
  buttons->addWidget(save_);
  status_->setWordWrap(true);
  status_->setText(
      tr("Every run trains on a stratified, nested subsample of the training split "
         "and is tested on the whole test split."));
  plot_->setMinimumHeight(300);
  plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot_->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  plot_->xAxis->setLabel(tr("labelled training samples per class (log scale)"));
  plot_->yAxis->setLabel(tr("test accuracy"));
  plot_->yAxis->setRange(0, 1);
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->setVisible(false);
  table_->setMaximumHeight(170);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(status_);
  layout->addWidget(progress_);
  layout->addWidget(plot_, 1);
  layout->addWidget(table_);
  setRunning(false);
  save_->setEnabled(false);

  connect(start_, &QPushButton::clicked, this, [this] { start(); });
  connect(stop_, &QPushButton::clicked, controller_, &DataEfficiencyController::cancel);
  connect(save_, &QPushButton::clicked, this, &DataEfficiencyDialog::save);
  connect(controller_, &DataEfficiencyController::runFinished, this, [this] {
    saved_ = false;
    refresh();
  });
  ask_ = [this](const QString& text, QMessageBox::StandardButtons buttons) {
    return QMessageBox::question(this, windowTitle(), text, buttons);
  };
  connect(controller_, &DataEfficiencyController::progress, this,
          [this](const QString& stage, double fraction, const QString& eta) {
            progress_->setValue(int(fraction * 1000));
            status_->setText(eta.isEmpty() ? stage : tr("%1 \u00b7 %2").arg(stage, eta));
          });
  connect(controller_, &DataEfficiencyController::finished, this, [this](bool cancelled) {
    setRunning(false);
    refresh();
    const auto& rows = controller_->rows();
    status_->setText((cancelled ? tr("Stopped: %1 of %2 runs finished in %3 s.")
                                : tr("Done: %1 of %2 runs in %3 s."))
                         .arg(rows.size())
                         .arg(controller_->totalRuns())
                         .arg(controller_->seconds(), 0, 'f', 0));
    if (!cancelled) progress_->setValue(1000);
  });
  connect(controller_, &DataEfficiencyController::failed, this, [this](const QString& message) {
    setRunning(false);
    status_->setText(tr("Failed: %1").arg(message));
  });
}

DataEfficiencyDialog::~DataEfficiencyDialog() = default;

bool DataEfficiencyDialog::confirmClose() {
  const size_t finished = controller_->rows().size();
  if (controller_->isRunning()) {
    const auto answer =
        ask_(tr("The experiment is running (%1 of %2 runs finished). Stop it and close? "
                "Results that are not saved are lost.")
                 .arg(finished)
                 .arg(controller_->totalRuns()),
             QMessageBox::Close | QMessageBox::Cancel);
    if (answer != QMessageBox::Close) return false;
    controller_->cancel();
    return true;
  }
  if (saved_ || finished == 0) return true;
  const auto answer =
      ask_(tr("The finished runs (%1) are not saved. Save them before closing?").arg(finished),
           QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
  if (answer == QMessageBox::Save) save();
  return answer == QMessageBox::Discard || (answer == QMessageBox::Save && saved_);
}

void DataEfficiencyDialog::closeEvent(QCloseEvent* event) {
  if (!confirmClose()) {
    event->ignore();
    return;
  }
  closing_ = true;
  QDialog::closeEvent(event);
  closing_ = false;
}

void DataEfficiencyDialog::reject() {
  if (closing_ || confirmClose()) QDialog::reject();
}

core::DataEfficiencyPlan DataEfficiencyDialog::plan() const {
  core::DataEfficiencyPlan p;
  p.strategies.clear();
  for (const auto& c : kChoices)
    if (strategyBoxes_.value(int(c.strategy))->isChecked()) p.strategies.push_back(c.strategy);
  if (p.strategies.empty()) throw core::InvalidArgument("pick at least one strategy");
  p.perClass.clear();
  for (const QString& part : sizes_->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    bool ok = false;
    const int n = part.trimmed().toInt(&ok);
    if (!ok || n < 1)
      throw core::InvalidArgument("samples per class: '" + part.trimmed().toStdString() +
                                  "' is not a whole number of 1 or more");
    p.perClass.push_back(n);
  }
  if (p.perClass.empty()) throw core::InvalidArgument("samples per class: enter at least one size");
  p.seeds = seeds_->value();
  return p;
}

bool DataEfficiencyDialog::start() {
  if (!dataset_) {
    status_->setText(tr("Open a dataset first (Data page)."));
    return false;
  }
  core::DataEfficiencyPlan p;
  try {
    p = plan();
  } catch (const core::Error& e) {
    status_->setText(tr("Cannot start: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
  plot_->clearPlottables();
  series_.clear();
  table_->clear();
  table_->setRowCount(0);
  progress_->setValue(0);
  controller_->start(project_->project(), dataset_, p);
  setRunning(true);
  status_->setText(tr("Splitting the dataset and starting the first run \u2026"));
  return true;
}

void DataEfficiencyDialog::setRunning(bool running) {
  start_->setEnabled(!running);
  stop_->setEnabled(running);
  sizes_->setEnabled(!running);
  seeds_->setEnabled(!running);
  for (auto* box : strategyBoxes_) box->setEnabled(!running);
  save_->setEnabled(!running && !controller_->rows().empty());
  progress_->setRange(0, 1000);
}

void DataEfficiencyDialog::setPresenterMode(bool on) {
  const double lines = on ? kPresenterLineScale : 1.0, fonts = on ? kPresenterFontScale : 1.0;
  if (lines == lineScale_) return;
  const double l = lines / lineScale_, f = fonts / fontScale_;
  lineScale_ = lines;
  fontScale_ = fonts;
  scalePlot(plot_, l, f);
}

// Plot and table from every finished run so far.
void DataEfficiencyDialog::refresh() {
  const auto points = controller_->points();
  std::set<int> sizes;
  QMap<int, QVector<const core::CurvePoint*>> byStrategy;
  for (const auto& p : points) {
    sizes.insert(p.perClass);
    byStrategy[int(p.strategy)].push_back(&p);
  }
  for (auto it = byStrategy.begin(); it != byStrategy.end(); ++it) {
    const auto s = core::Strategy(it.key());
    if (!series_.contains(it.key())) {
      auto* g = plot_->addGraph();
      const QColor colour = colourOf(s);
      g->setName(QString::fromUtf8(core::strategyName(s)));
      g->setPen(QPen(colour, 2 * lineScale_));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, 7 * lineScale_));
      auto* bars = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
      bars->setDataPlottable(g);
      bars->setPen(QPen(colour, 1.5 * lineScale_));
      bars->removeFromLegend();
      series_.insert(it.key(), {g, bars});
    }
    QVector<double> x, y, below, above;
    for (const auto* p : it.value()) {
      x << p->perClass;
      y << p->mean;
      below << p->mean - p->min;
      above << p->max - p->mean;
    }
    series_[it.key()].first->setData(x, y, true);
    series_[it.key()].second->setData(below, above);
  }
  if (!sizes.empty()) {
    plot_->xAxis->setRange(*sizes.begin() / 1.4, *sizes.rbegin() * 1.4);
    plot_->yAxis->setRange(0, 1);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);

  // Table: a row per size, a column per strategy ("mean ± sd (runs)").
  const QList<int> strategies = byStrategy.keys();
  table_->setColumnCount(1 + int(strategies.size()));
  QStringList headers{tr("samples per class")};
  for (int s : strategies) headers << QString::fromUtf8(core::strategyName(core::Strategy(s)));
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(int(sizes.size()));
  int row = 0;
  for (int n : sizes) {
    table_->setItem(row, 0, new QTableWidgetItem(QString::number(n)));
    for (int col = 0; col < strategies.size(); ++col) {
      for (const auto* p : byStrategy[strategies[col]]) {
        if (p->perClass != n) continue;
        table_->setItem(row, col + 1,
                        new QTableWidgetItem(tr("%1 \u00b1 %2 (%3)")
                                                 .arg(p->mean, 0, 'f', 3)
                                                 .arg(p->stddev, 0, 'f', 3)
                                                 .arg(p->runs)));
      }
    }
    ++row;
  }
  table_->resizeColumnsToContents();
}

bool DataEfficiencyDialog::saveTo(const QString& csvPath, QString* error) {
  const std::string csv = core::dataEfficiencyCsv(controller_->rows());
  const QString png = QFileInfo(csvPath).path() + QLatin1Char('/') +
                      QFileInfo(csvPath).completeBaseName() + QStringLiteral(".png");
  try {
    core::writeFileAtomic(csvPath.toStdString(), csv);
  } catch (const std::exception& e) {
    *error = QString::fromUtf8(e.what());
    return false;
  }
  QFile back(csvPath);
  if (!back.open(QIODevice::ReadOnly) || back.readAll().toStdString() != csv) {
    *error = tr("%1: what was read back differs from what was written").arg(csvPath);
    return false;
  }
  const int w = 900, h = 560;
  if (!plot_->savePng(png, w, h)) {
    *error = tr("%1: the plot could not be written").arg(png);
    return false;
  }
  const QImage image(png);
  if (image.isNull() || image.width() != w || image.height() != h) {
    *error = tr("%1: the written plot does not read back as a %2x%3 image").arg(png).arg(w).arg(h);
    return false;
  }
  saved_ = true;
  return true;
}

void DataEfficiencyDialog::save() {
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Save data-efficiency results"),
                                   QStringLiteral("data-efficiency.csv"), tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  status_->setText(saveTo(path, &error)
                       ? tr("Saved %1 and the plot beside it (both read back).").arg(path)
                       : tr("Not saved: %1").arg(error));
}

}  // namespace tlab::ui
