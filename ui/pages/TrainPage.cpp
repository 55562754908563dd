#include "ui/pages/TrainPage.h"

#include <QCheckBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <thread>

#include "core/report/RunReport.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/controllers/TrainController.h"
#include "ui/widgets/DataEfficiencyDialog.h"
#include "ui/widgets/LrFinderDialog.h"
#include "ui/widgets/TrainCharts.h"
#include "ui/widgets/TrainSettingsForm.h"

namespace tlab::ui {
namespace {

QString duration(double seconds) {
  if (seconds < 0) return QStringLiteral("\u2013");
  const int s = int(seconds + 0.5);
  return s >= 3600 ? QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60)
                   : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString percent(const std::optional<double>& v) {
  return v ? QString::number(100 * *v, 'f', 1) + QLatin1Char('%') : QString();
}

enum RunColumn { kId, kName, kState, kVal, kTest, kTime };

}  // namespace

TrainPage::TrainPage(ProjectController* project, DatasetController* datasets,
                     TrainController* trainer, QWidget* parent)
    : QWidget(parent),
      project_(project),
      datasets_(datasets),
      trainer_(trainer),
      form_(new TrainSettingsForm(this)),
      charts_(new TrainCharts(this)),
      start_(new QPushButton(tr("&Start"), this)),
      pause_(new QPushButton(tr("&Pause"), this)),
      stop_(new QPushButton(tr("St&op"), this)),
      scratch_(new QPushButton(tr("Compare with from scratch"), this)),
      strategies_(new QPushButton(tr("Compare strategies"), this)),
      lrFinder_(new QPushButton(tr("Find learning rate\u2026"), this)),
      report_(new QPushButton(tr("Export &report\u2026"), this)),
      processes_(new QSpinBox(this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      log_(new QPlainTextEdit(this)),
      runs_(new QTreeWidget(this)) {
  buildLayout();
  connectControls();
  connectTrainer();
  form_->setConfig(project_->project().config);
  refreshButtons();
}

void TrainPage::buildLayout() {
  start_->setToolTip(tr("Train with these settings (F5)"));
  scratch_->setToolTip(
      tr("Queue this run and its twin trained from random weights, to see what "
         "pre-training bought"));
  lrFinder_->setToolTip(tr("Sweep the learning rate over a few hundred steps and suggest one"));
  strategies_->setToolTip(
      tr("Queue a linear probe, a fine-tune of the last stages and a full "
         "fine-tune with the same budget"));
  processes_->setRange(1, std::max(1, int(std::thread::hardware_concurrency())));
  processes_->setValue(trainer_->processes());
  processes_->setToolTip(
      tr("Train data-parallel on this many local processes (each gets a share of the cores and "
         "of every batch's samples; same results as one process with the batch size times "
         "this). Pause is not available then."));
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  runs_->setHeaderLabels(
      {tr("Run"), tr("Name"), tr("State"), tr("Val acc"), tr("Test acc"), tr("Time")});
  runs_->setRootIsDecorated(false);
  runs_->header()->setSectionResizeMode(kName, QHeaderView::Stretch);
  runs_->setToolTip(tr("Check runs to overlay their validation accuracy"));

  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {start_, pause_, stop_}) buttons->addWidget(b);
  buttons->addWidget(lrFinder_);
  processesLabel_ = new QLabel(tr("P&rocesses"), this);
  processesLabel_->setBuddy(processes_);
  buttons->addWidget(processesLabel_);
  buttons->addWidget(processes_);
  buttons->addStretch();
  buttons->addWidget(scratch_);
  buttons->addWidget(strategies_);
  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(form_);
  leftLayout->addWidget(runs_, 1);
  auto* runButtons = new QHBoxLayout;
  runButtons->addStretch();
  runButtons->addWidget(report_);
  leftLayout->addLayout(runButtons);
  report_->setToolTip(
      tr("The checked runs (or the selected one) as an HTML or PDF report: configuration, "
         "dataset, curves, confusion matrix, per-class metrics, the most confident mistakes"));
  auto* right = new QSplitter(Qt::Vertical, this);
  right->setObjectName(QStringLiteral("trainRightSplitter"));
  right->addWidget(charts_);
  right->addWidget(log_);
  right->setStretchFactor(0, 4);
  right->setStretchFactor(1, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->setObjectName(QStringLiteral("trainSplitter"));
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(buttons);
  auto* progressRow = new QHBoxLayout;
  progressRow->addWidget(progress_, 1);
  progressRow->addWidget(status_);
  layout->addLayout(progressRow);
  layout->addWidget(split, 1);
}

void TrainPage::connectControls() {
  connect(
      form_, &TrainSettingsForm::edited, project_,
      [this](const core::TrainConfig& c, const QString& what) { project_->setConfig(c, what); });
  auto showConfig = [this] { form_->setConfig(project_->project().config); };
  connect(project_, &ProjectController::configChanged, this, showConfig);
  connect(project_, &ProjectController::projectReplaced, this, [this, showConfig] {
    showConfig();
    refreshRuns();
  });
  connect(project_, &ProjectController::runsChanged, this, &TrainPage::refreshRuns);
  connect(start_, &QPushButton::clicked, this, &TrainPage::startRun);
  connect(scratch_, &QPushButton::clicked, this, &TrainPage::compareWithScratch);
  connect(strategies_, &QPushButton::clicked, this, &TrainPage::compareStrategies);
  connect(lrFinder_, &QPushButton::clicked, this, &TrainPage::findLearningRate);
  connect(report_, &QPushButton::clicked, this, &TrainPage::exportReportInteractive);
  connect(pause_, &QPushButton::clicked, this, [this] {
    trainer_->isPaused() ? trainer_->resume() : trainer_->pause();
    refreshButtons();
  });
  connect(stop_, &QPushButton::clicked, trainer_, &TrainController::stop);
  connect(processes_, qOverload<int>(&QSpinBox::valueChanged), trainer_,
          &TrainController::setProcesses);
  connect(runs_, &QTreeWidget::itemChanged, this, [this] {
    std::vector<core::RunRecord> shown;
    for (int i = 0; i < runs_->topLevelItemCount(); ++i) {
      const auto* item = runs_->topLevelItem(i);
      if (item->checkState(kId) != Qt::Checked) continue;
      if (const auto* r = project_->project().findRun(item->text(kId).toStdString()))
        shown.push_back(*r);
    }
    charts_->setOverlays(shown);
  });
}

// The progress bar and status line: steps with their rate, or the task (feature extraction,
// evaluation) with its count, each with an ETA.
void TrainPage::connectProgress() {
  connect(trainer_, &TrainController::progressed, this,
          [this](const QString& id, const TrainProgress& p) {
            progress_->setRange(0, int(p.totalSteps));
            progress_->setValue(int(p.step));
            status_->setText(tr("%1 \u00b7 epoch %2/%3 \u00b7 %4 samples/s \u00b7 ETA %5")
                                 .arg(id)
                                 .arg(p.epoch)
                                 .arg(p.epochs)
                                 .arg(p.itemsPerSecond, 0, 'f', 1)
                                 .arg(duration(p.etaSeconds)));
          });
  connect(trainer_, &TrainController::taskProgressed, this,
          [this](const QString& id, const core::TaskProgress& t) {
            progress_->setRange(0, int(std::max<int64_t>(1, t.total)));
            progress_->setValue(int(t.done));
            status_->setText(tr("%1 \u00b7 %2 \u00b7 %3 of %4 \u00b7 ETA %5")
                                 .arg(id, QString::fromStdString(t.task))
                                 .arg(QLocale().toString(qlonglong(t.done)),
                                      QLocale().toString(qlonglong(t.total)))
                                 .arg(duration(t.etaSeconds())));
          });
}

void TrainPage::connectTrainer() {
  connect(trainer_, &TrainController::runStarted, this, [this](const QString& id) {
    charts_->clear();
    appendLog({tr("\u2014 %1 started").arg(id)});
    if (const auto* r = project_->project().findRun(id.toStdString())) {
      core::RunRecord running = *r;
      running.status = core::RunStatus::Running;
      project_->upsertRun(running);
    }
    refreshButtons();
  });
  connect(trainer_, &TrainController::batchPoints, this,
          [this](const QString&, const QVector<BatchPoint>& p) { charts_->appendBatches(p); });
  connect(trainer_, &TrainController::epochFinished, this,
          [this](const QString&, const core::EpochMetrics& e) { charts_->appendEpoch(e); });
  connect(trainer_, &TrainController::logged, this,
          [this](const QString&, const QStringList& lines) { appendLog(lines); });
  connectProgress();
  connect(trainer_, &TrainController::runNotStarted, this, [this](const core::RunRecord& r) {
    project_->upsertRun(r);
    appendLog({tr("\u2014 %1 not started: %2")
                   .arg(QString::fromStdString(r.id), QString::fromStdString(r.error))});
    status_->setText(tr("%1 not started: %2")
                         .arg(QString::fromStdString(r.id), QString::fromStdString(r.error)));
    refreshButtons();
  });
  connect(trainer_, &TrainController::runFinished, this, [this](const core::RunRecord& r) {
    project_->upsertRun(r);
    appendLog({tr("\u2014 %1 %2%3")
                   .arg(QString::fromStdString(r.id),
                        QString::fromLatin1(core::kRunStatusNames.name(r.status)),
                        r.error.empty() ? QString()
                                        : QStringLiteral(": ") + QString::fromStdString(r.error))});
    if (r.status == core::RunStatus::Finished) progress_->setValue(progress_->maximum());
    status_->setText(tr("%1 %2 \u00b7 test accuracy %3")
                         .arg(QString::fromStdString(r.id),
                              QString::fromLatin1(core::kRunStatusNames.name(r.status)),
                              percent(r.testAccuracy)));
    refreshButtons();
  });
}

bool TrainPage::queue(std::vector<std::pair<core::TrainConfig, std::string>> runs) {
  const auto source = datasets_->dataset();
  if (!source) {
    status_->setText(tr("Open a dataset first (Data page)."));
    return false;
  }
  std::vector<core::RunRecord> records;
  for (const auto& [config, name] : runs) records.push_back(project_->addQueuedRun(config, name));
  trainer_->prepareAndEnqueue(std::move(records), source, project_->project());
  refreshButtons();
  return true;
}

bool TrainPage::startRun() {
  const core::TrainConfig c = project_->project().config;
  return queue({{c, core::strategyName(c.strategy)}});
}

bool TrainPage::startRunNamed(const std::string& name) {
  return queue({{project_->project().config, name}});
}

bool TrainPage::compareWithScratch() {
  const core::TrainConfig c = project_->project().config;
  core::TrainConfig twin = core::withStrategyDefaults(c, core::Strategy::Scratch);
  twin.epochs = c.epochs;  // same budget
  return queue({{c, core::strategyName(c.strategy)}, {twin, "from scratch (same budget)"}});
}

bool TrainPage::compareStrategies() {
  const core::TrainConfig c = project_->project().config;
  std::vector<std::pair<core::TrainConfig, std::string>> runs;
  for (auto s : {core::Strategy::LinearProbe, core::Strategy::FinetuneLast, core::Strategy::Full}) {
    core::TrainConfig v = core::withStrategyDefaults(c, s);
    v.epochs = c.epochs;
    runs.push_back({v, core::strategyName(s)});
  }
  return queue(std::move(runs));
}

void TrainPage::findLearningRate() {
  const auto source = datasets_->dataset();
  if (!source) {
    status_->setText(tr("Open a dataset first (Data page)."));
    return;
  }
  LrFinderDialog dialog(project_, source, 100, this);
  dialog.exec();
}

DataEfficiencyDialog* TrainPage::showDataEfficiency() {
  const auto source = datasets_->dataset();
  if (!source) {
    status_->setText(tr("Open a dataset first (Data page)."));
    return nullptr;
  }
  auto* dialog = new DataEfficiencyDialog(project_, source, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->setPresenterMode(presenter_);
  dialog->show();
  return dialog;
}

void TrainPage::setPresenterMode(bool on) {
  for (QWidget* w : std::initializer_list<QWidget*>{form_, log_, lrFinder_, strategies_, processes_,
                                                    processesLabel_})
    w->setVisible(!on);
  runs_->setColumnHidden(kState, on);  // the progress bar says what runs; the accuracies fit
  runs_->setColumnHidden(kTime, on);
  charts_->setPresenterMode(on);
  presenter_ = on;
  for (auto* dialog : findChildren<DataEfficiencyDialog*>()) dialog->setPresenterMode(on);
}

DataEfficiencyDialog* TrainPage::showDataEfficiencyFor(const QStringList& strategies) {
  DataEfficiencyDialog* dialog = showDataEfficiency();
  if (!dialog) return nullptr;
  for (const auto& [strategy, name] : core::kStrategyNames.entries) {
    if (QCheckBox* box = dialog->strategyBox(strategy))
      box->setChecked(strategies.contains(QLatin1String(name)));
  }
  return dialog;
}

void TrainPage::refreshRuns() {
  QSignalBlocker block(runs_);
  QStringList checked;
  for (int i = 0; i < runs_->topLevelItemCount(); ++i)
    if (runs_->topLevelItem(i)->checkState(kId) == Qt::Checked)
      checked << runs_->topLevelItem(i)->text(kId);
  runs_->clear();
  for (const auto& r : project_->project().runs) {
    auto* item = new QTreeWidgetItem(runs_);
    item->setText(kId, QString::fromStdString(r.id));
    item->setText(kName, QString::fromStdString(r.name));
    item->setText(kState, QString::fromLatin1(core::kRunStatusNames.name(r.status)));
    item->setText(kVal, percent(r.valAccuracy));
    item->setText(kTest, percent(r.testAccuracy));
    item->setText(kTime, r.seconds > 0 ? duration(r.seconds) : QString());
    item->setToolTip(kState, QString::fromStdString(r.error));
    item->setCheckState(kId, checked.contains(item->text(kId)) ? Qt::Checked : Qt::Unchecked);
  }
}

QStringList TrainPage::reportRunIds() const {
  QStringList ids;
  for (int i = 0; i < runs_->topLevelItemCount(); ++i)
    if (runs_->topLevelItem(i)->checkState(kId) == Qt::Checked)
      ids << runs_->topLevelItem(i)->text(kId);
  if (ids.isEmpty() && runs_->currentItem()) ids << runs_->currentItem()->text(kId);
  return ids;
}

bool TrainPage::exportReport(const QString& path, const QStringList& runIds, QString* error) {
  try {
    if (runIds.isEmpty())
      throw core::InvalidArgument("no run chosen: check runs in the list, or select one");
    std::vector<core::ReportRun> runs;
    for (const QString& id : runIds) {
      const core::RunRecord* r = project_->project().findRun(id.toStdString());
      if (!r) throw core::InvalidArgument("run " + id.toStdString() + " is not in the project");
      if (r->status == core::RunStatus::Running || r->status == core::RunStatus::Queued ||
          r->status == core::RunStatus::Paused)
        throw core::InvalidArgument("run " + r->id + " has not ended yet");
      runs.push_back(core::readRunFolder(r->folder));
      runs.back().name = r->id + " " + r->name;
    }
    const auto written = core::writeRunReport(runs, path.toStdString());
    status_->setText(tr("Report written: %1 (%2 KB)")
                         .arg(QFileInfo(path).fileName())
                         .arg(double(written.bytes) / 1024.0, 0, 'f', 0));
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

void TrainPage::exportReportInteractive() {
  const QStringList ids = reportRunIds();
  if (ids.isEmpty()) {
    QMessageBox::information(this, tr("Export report"),
                             tr("Check the runs to report in the list (or select one) first."));
    return;
  }
  QString filter = tr("HTML (*.html)");
  const QString suggested =
      QFileInfo(QString::fromStdString(project_->project().runs.empty()
                                           ? std::string()
                                           : project_->project().runs.front().folder))
          .dir()
          .filePath(ids.size() == 1 ? ids.front() + QStringLiteral("-report.html")
                                    : QStringLiteral("comparison-report.html"));
  QString path = QFileDialog::getSaveFileName(this, tr("Export report"), suggested,
                                              tr("HTML (*.html);;PDF (*.pdf)"), &filter);
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty())
    path +=
        filter.contains(QLatin1String("pdf")) ? QStringLiteral(".pdf") : QStringLiteral(".html");
  QString error;
  if (!exportReport(path, ids, &error))
    QMessageBox::warning(this, tr("Export report"),
                         tr("The report was not written.\n\n%1").arg(error));
}

void TrainPage::refreshButtons() {
  const bool running = trainer_->isRunning();
  pause_->setEnabled(running);
  stop_->setEnabled(running);
  pause_->setText(trainer_->isPaused() ? tr("&Resume") : tr("&Pause"));
}

void TrainPage::appendLog(const QStringList& lines) {
  for (const QString& l : lines) log_->appendPlainText(l);
}

}  // namespace tlab::ui
