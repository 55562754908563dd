#include "ui/pages/DatasetPage.h"
#include "ui/workers/TorchQt.h"  // first: Project.h reaches LibTorch

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/dataset/Dataset.h"
#include "ui/controllers/DataIssuesController.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/widgets/AugmentationPanel.h"
#include "ui/widgets/ClassBalanceChart.h"
#include "ui/widgets/DataIssuesView.h"
#include "ui/widgets/SampleBrowser.h"
#include "ui/workers/Async.h"

namespace tlab::ui {

DatasetPage::DatasetPage(DatasetController* controller, ProjectController* project, QWidget* parent)
    : QWidget(parent),
      summary_(new QLabel(tr("Import a dataset with File \u2192 Import Dataset (Ctrl+O)."), this)),
      progress_(new QProgressBar(this)),
      chart_(new ClassBalanceChart(this)),
      skipped_(new QTableWidget(0, 2, this)),
      browser_(new SampleBrowser(project, this)),
      augmentation_(new AugmentationPanel(project, controller, this)),
      issues_(new DataIssuesController(project, this)),
      issuesView_(new DataIssuesView(issues_, project, this)),
      top_(new QTabWidget(this)),
      cancel_(new QPushButton(tr("Cancel"), this)),
      project_(project) {
  setUpWidgets();
  buildLayout();
  connectController(controller);
  for (auto signal : {&ProjectController::datasetSettingsChanged,
                      &ProjectController::labelEditsChanged, &ProjectController::projectReplaced})
    connect(project, signal, this, &DatasetPage::refreshBalance);
}

void DatasetPage::setUpWidgets() {
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summary_->setWordWrap(true);
  progress_->hide();
  skipped_->setHorizontalHeaderLabels({tr("Skipped file"), tr("Reason")});
  skipped_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
  skipped_->horizontalHeader()->setStretchLastSection(true);
  skipped_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  skipped_->verticalHeader()->hide();
  cancel_->hide();
  cancel_->setToolTip(tr("Stop reading this dataset"));
}

void DatasetPage::buildLayout() {
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->setObjectName(QStringLiteral("dataSplitter"));
  auto* overview = new QTabWidget(this);
  overview->addTab(chart_, tr("Class balance (as training splits it)"));
  overview->addTab(skipped_, tr("Skipped files"));
  top_->addTab(browser_, tr("Samples"));
  top_->addTab(augmentation_, tr("Augmentation"));
  top_->addTab(issuesView_, tr("Data issues"));
  splitter->addWidget(top_);
  splitter->addWidget(overview);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  auto* progressRow = new QHBoxLayout;
  progressRow->addWidget(progress_, 1);
  progressRow->addWidget(cancel_);
  layout->addLayout(progressRow);
  layout->addWidget(splitter, 1);
}

// Opening shows what it does, how far it is and the time left, and can be cancelled.
void DatasetPage::connectController(DatasetController* controller) {
  connect(cancel_, &QPushButton::clicked, controller, &DatasetController::cancel);
  connect(controller, &DatasetController::started, this, [this](const QString& path) {
    summary_->setText(tr("Opening %1 \u2026").arg(path));
    progress_->setRange(0, 0);
    progress_->show();
    cancel_->show();
    openClock_.start();
  });
  connect(controller, &DatasetController::progress, this, [this](qint64 done, qint64 total) {
    if (total <= 0) return;
    progress_->setRange(0, int(total));
    progress_->setValue(int(done));
    const double seconds = double(openClock_.elapsed()) / 1000.0;
    const QString eta =
        done > 0 ? tr("%1 s left").arg(int(seconds * double(total - done) / double(done) + 0.5))
                 : tr("estimating");
    progress_->setFormat(tr("verifying images %v / %m \u00b7 %1").arg(eta));
  });
  connect(controller, &DatasetController::loaded, this,
          [this](std::shared_ptr<const core::Dataset> ds) {
            progress_->hide();
            cancel_->hide();
            dataset_ = ds;
            showDataset(*ds);
            browser_->setDataset(ds);
            issuesView_->setDataset(ds);
          });
  connect(issues_, &DataIssuesController::finished, this,
          [this] { browser_->setFlaggedKeys(issues_->flaggedKeys()); });
  connect(controller, &DatasetController::failed, this, [this](const QString& message) {
    progress_->hide();
    cancel_->hide();
    summary_->setText(tr("<b>Could not open the dataset.</b><br>%1").arg(message.toHtmlEscaped()));
  });
}

void DatasetPage::refreshBalance() {
  if (!dataset_) return;
  core::Project settings;  // only what the split depends on, not the runs
  settings.dataset = project_->project().dataset;
  settings.labelEdits = project_->project().labelEdits;
  // A newer edit cancels the computation still running (its result is dropped).
  balanceTask_.start(
      [ds = dataset_, settings]() -> BalanceResult {
        try {
          auto training =
              std::make_shared<const core::Dataset>(core::projectDataset(*ds, settings));
          return {training, core::sourceSplits(*ds, *training)};
        } catch (const std::exception&) {  // bad fractions: the project loader refuses those
          return {};
        }
      },
      [this](BalanceResult r) {
        if (!r.training) return;
        chart_->setDataset(*r.training);
        browser_->setTrainingSplits(std::move(r.splits));
      });
}

QString DatasetPage::summaryText() const { return summary_->text(); }

void DatasetPage::showIssues() { top_->setCurrentWidget(issuesView_); }

void DatasetPage::showAugmentation(bool show) {
  top_->setCurrentWidget(show ? static_cast<QWidget*>(augmentation_) : browser_);
}

void DatasetPage::showDataset(const core::Dataset& ds) {
  QStringList splits;
  for (auto s : {core::Split::Train, core::Split::Val, core::Split::Test}) {
    if (const auto n = ds.splitCount(s))
      splits << QStringLiteral("%1 %2").arg(core::splitName(s)).arg(n);
  }
  QString text = tr("<b>%1</b> \u2014 %2, %3 samples in %4 classes")
                     .arg(QString::fromStdString(ds.source.string()).toHtmlEscaped(),
                          QString::fromStdString(ds.format))
                     .arg(ds.size())
                     .arg(ds.numClasses());
  if (!splits.isEmpty()) text += tr("; split: %1").arg(splits.join(QStringLiteral(", ")));
  text += tr("; %n skipped", nullptr, int(ds.skipped.size()));
  for (const auto& e : ds.structuralErrors()) {
    text += QStringLiteral("<br><span style='color:#a40000'>%1</span>")
                .arg(QString::fromStdString(e).toHtmlEscaped());
  }
  summary_->setText(text);
  refreshBalance();
  skipped_->setRowCount(int(ds.skipped.size()));
  for (int r = 0; r < int(ds.skipped.size()); ++r) {
    const auto& s = ds.skipped[size_t(r)];
    QString where = QString::fromStdString(s.path);
    if (s.line > 0) where += QStringLiteral(":%1").arg(s.line);
    skipped_->setItem(r, 0, new QTableWidgetItem(where));
    skipped_->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(s.reason)));
  }
  skipped_->resizeColumnToContents(0);
}

}  // namespace tlab::ui
