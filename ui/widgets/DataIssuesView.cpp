#include "ui/widgets/DataIssuesView.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/project/Project.h"
#include "core/zoo/BackboneCatalog.h"
#include "ui/controllers/DataIssuesController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
namespace {
enum Column { kKind, kSample, kGiven, kSuggested, kScore, kReview, kColumns };
constexpr int kThumbnailRows = 300;  // thumbnails for the first rows; the rest show names

QString kindName(DataIssueRow::Kind k) {
  switch (k) {
    case DataIssueRow::Kind::Label:
      return DataIssuesView::tr("label error?");
    case DataIssueRow::Kind::Duplicate:
      return DataIssuesView::tr("duplicate");
    case DataIssueRow::Kind::Outlier:
      return DataIssuesView::tr("outlier");
  }
  return {};
}

QString sampleName(const core::Dataset& ds, size_t i) {
  const auto& s = ds.samples[i];
  if (!s.text.empty()) {
    QString t = QString::fromStdString(s.text.substr(0, 300)).simplified();
    return t.size() > 120 ? t.left(117) + QStringLiteral("\u2026") : t;
  }
  if (!s.path.empty()) return QString::fromStdString(s.path);
  return DataIssuesView::tr("#%1 (%2)")
      .arg(s.index)
      .arg(QString::fromLatin1(core::splitName(s.split)));
}
}  // namespace

DataIssuesView::DataIssuesView(DataIssuesController* controller, ProjectController* project,
                               QWidget* parent)
    : QWidget(parent),
      controller_(controller),
      project_(project),
      backbone_(new QComboBox(this)),
      folds_(new QSpinBox(this)),
      find_(new QPushButton(tr("Find issues"), this)),
      cancel_(new QPushButton(tr("Cancel"), this)),
      accept_(new QPushButton(tr("Accept suggestion (A)"), this)),
      exclude_(new QPushButton(tr("Exclude (X)"), this)),
      keep_(new QPushButton(tr("Keep as labelled (K)"), this)),
      retrain_(new QPushButton(tr("Retrain with fixes"), this)),
      progress_(new QProgressBar(this)),
      summary_(new QLabel(this)),
      hint_(new QLabel(this)),
      table_(new QTableWidget(0, kColumns, this)) {
  folds_->setRange(2, 10);
  folds_->setValue(5);
  folds_->setPrefix(tr("folds: "));
  backbone_->setToolTip(tr("Whose pre-trained features the check uses"));
  summary_->setWordWrap(true);
  summary_->setText(
      tr("Finds likely label errors (confident learning on cross-validated linear "
         "probes of a pre-trained backbone's features), train/test near-duplicates "
         "and outliers. Features come from the feature cache when a run has "
         "computed them."));
  hint_->setText(tr("Review: A accept \u00b7 X exclude \u00b7 K keep \u00b7 Ctrl+Z undo"));
  hint_->setStyleSheet(QStringLiteral("color: #555;"));
  progress_->hide();
  cancel_->hide();
  table_->setHorizontalHeaderLabels(
      {tr("Finding"), tr("Sample"), tr("Given"), tr("Suggested"), tr("Score"), tr("Review")});
  table_->horizontalHeader()->setSectionResizeMode(kSample, QHeaderView::Stretch);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->setDefaultSectionSize(kThumbnailSide / 2 + 8);
  table_->setIconSize(QSize(kThumbnailSide / 2, kThumbnailSide / 2));
  table_->installEventFilter(this);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Backbone"), this));
  controls->addWidget(backbone_);
  controls->addWidget(folds_);
  controls->addWidget(find_);
  controls->addWidget(progress_, 1);
  controls->addWidget(cancel_);
  controls->addStretch();
  auto* review = new QHBoxLayout;
  review->addWidget(accept_);
  review->addWidget(exclude_);
  review->addWidget(keep_);
  review->addWidget(hint_, 1);
  review->addWidget(retrain_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(summary_);
  layout->addWidget(table_, 1);
  layout->addLayout(review);

  connect(find_, &QPushButton::clicked, this, &DataIssuesView::findIssues);
  connect(cancel_, &QPushButton::clicked, controller_, &DataIssuesController::cancel);
  connect(accept_, &QPushButton::clicked, this, [this] { act('a'); });
  connect(exclude_, &QPushButton::clicked, this, [this] { act('x'); });
  connect(keep_, &QPushButton::clicked, this, [this] { act('k'); });
  connect(retrain_, &QPushButton::clicked, this, &DataIssuesView::retrainRequested);
  connect(controller_, &DataIssuesController::started, this, [this] {
    find_->setEnabled(false);
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progress_->show();
    cancel_->show();
  });
  connect(controller_, &DataIssuesController::progress, this,
          [this](const QString& stage, double fraction, const QString& eta) {
            progress_->setValue(int(1000 * fraction));
            progress_->setFormat(eta.isEmpty() ? stage : tr("%1 \u00b7 %2").arg(stage, eta));
          });
  const auto done = [this] {
    find_->setEnabled(dataset_ != nullptr);
    progress_->hide();
    cancel_->hide();
  };
  connect(controller_, &DataIssuesController::finished, this, [this, done] {
    done();
    summary_->setText(controller_->summary());
    showRows();
  });
  connect(controller_, &DataIssuesController::failed, this, [this, done](const QString& m) {
    done();
    summary_->setText(tr("<b>Data issues:</b> %1").arg(m.toHtmlEscaped()));
  });
  connect(controller_, &DataIssuesController::reviewChanged, this, &DataIssuesView::refreshReview);
  connect(table_, &QTableWidget::currentCellChanged, this, [this] { refreshReview(); });
  find_->setEnabled(false);
  refreshReview();
}

void DataIssuesView::setDataset(std::shared_ptr<const core::Dataset> dataset) {
  dataset_ = std::move(dataset);
  find_->setEnabled(dataset_ != nullptr && !controller_->isRunning());
  const QString current = backbone_->currentData().toString();
  backbone_->clear();
  if (!dataset_) return;
  const bool text = dataset_->modality == core::Modality::Text;
  try {
    const auto catalog = core::BackboneCatalog::loadDefault();
    for (const auto& e : catalog.entries()) {
      if ((e.modality == "text") != text || !e.weights) continue;  // random features find little
      backbone_->addItem(QString::fromStdString(e.name), QString::fromStdString(e.id));
    }
  } catch (const std::exception&) {
  }
  // The run's backbone by default: its features are likely cached already.
  const QString preferred =
      current.isEmpty() ? QString::fromStdString(project_->project().config.backbone) : current;
  const int at = backbone_->findData(preferred);
  if (at >= 0) backbone_->setCurrentIndex(at);
}

void DataIssuesView::findIssues() {
  if (!dataset_ || backbone_->currentIndex() < 0) return;
  const auto& config = project_->project().config;
  const QString id = backbone_->currentData().toString();
  // The run's image size when it is the run's backbone (the same cached features).
  const int size = id.toStdString() == config.backbone ? config.imageSize : 0;
  controller_->run(dataset_, id, folds_->value(), size);
}

QString DataIssuesView::summaryText() const { return summary_->text(); }

void DataIssuesView::showRows() {
  const auto& rows = controller_->rows();
  const auto ds = controller_->training();
  table_->setRowCount(0);
  if (!ds) return;
  table_->setRowCount(rows.size());
  for (int r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    table_->setItem(r, kKind, new QTableWidgetItem(kindName(row.kind)));
    QString name = sampleName(*ds, row.sample);
    if (row.kind == DataIssueRow::Kind::Duplicate)
      name += tr("  \u2248 %1 (%2)")
                  .arg(sampleName(*ds, row.other),
                       QString::fromLatin1(core::splitName(ds->samples[row.other].split)));
    auto* sample = new QTableWidgetItem(name);
    sample->setToolTip(name);
    table_->setItem(r, kSample, sample);
    table_->setItem(r, kGiven, new QTableWidgetItem(row.given));
    table_->setItem(r, kSuggested, new QTableWidgetItem(row.suggested));
    auto* score = new QTableWidgetItem;
    score->setData(Qt::DisplayRole, QString::number(row.score, 'f', 3).toDouble());
    table_->setItem(r, kScore, score);
    table_->setItem(r, kReview, new QTableWidgetItem);
  }
  table_->resizeColumnToContents(kKind);
  refreshReview();
  if (!rows.isEmpty()) {
    table_->setCurrentCell(0, kSample);
    table_->setFocus();
  }
  loadThumbnails();
}

void DataIssuesView::loadThumbnails() {
  const auto ds = controller_->training();
  if (!ds || ds->modality != core::Modality::Image) return;
  std::vector<size_t> samples;
  for (int r = 0; r < controller_->rows().size() && r < kThumbnailRows; ++r)
    samples.push_back(controller_->rows()[r].sample);
  const qreal ratio = screenPixelRatio();
  thumbnails_.start(
      [ds, samples, ratio](const std::atomic<bool>& cancelled) {
        QVector<QImage> images;
        for (size_t s : samples) {
          if (cancelled) break;
          images.push_back(sampleImage(*ds, s, kThumbnailSide / 2, ratio));
        }
        return images;
      },
      [this](const QVector<QImage>& images) {
        for (int r = 0; r < images.size() && r < table_->rowCount(); ++r)
          if (auto* item = table_->item(r, kSample); item && !images[r].isNull())
            item->setIcon(QIcon(QPixmap::fromImage(images[r])));
      });
}

void DataIssuesView::refreshReview() {
  const int current = table_->currentRow();
  for (int r = 0; r < table_->rowCount() && r < controller_->rows().size(); ++r) {
    QString label;
    QString text;
    switch (controller_->reviewOf(r, &label)) {
      case DataIssuesController::Review::Open:
        break;
      case DataIssuesController::Review::Relabelled:
        text = tr("relabelled: %1").arg(label);
        break;
      case DataIssuesController::Review::Excluded:
        text = tr("excluded");
        break;
      case DataIssuesController::Review::Kept:
        text = tr("kept");
        break;
    }
    if (auto* item = table_->item(r, kReview)) item->setText(text);
  }
  const bool any = current >= 0 && current < controller_->rows().size();
  accept_->setEnabled(any && controller_->rows()[current].kind == DataIssueRow::Kind::Label);
  exclude_->setEnabled(any);
  keep_->setEnabled(any);
  retrain_->setEnabled(!project_->project().labelEdits.empty());
}

void DataIssuesView::act(char action) {
  const int row = table_->currentRow();
  if (row < 0 || row >= controller_->rows().size()) return;
  if (action == 'a' && !controller_->accept(row)) return;
  if (action == 'x') controller_->exclude(row);
  if (action == 'k') controller_->keep(row);
  selectNextOpen(row + 1);
}

void DataIssuesView::selectNextOpen(int from) {
  for (int r = from; r < table_->rowCount(); ++r) {
    if (controller_->reviewOf(r) == DataIssuesController::Review::Open) {
      table_->setCurrentCell(r, kSample);
      return;
    }
  }
}

bool DataIssuesView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == table_ && event->type() == QEvent::KeyPress) {
    const auto* key = static_cast<QKeyEvent*>(event);
    if (!(key->modifiers() & (Qt::ControlModifier | Qt::AltModifier | Qt::MetaModifier))) {
      const char action = key->key() == Qt::Key_A   ? 'a'
                          : key->key() == Qt::Key_X ? 'x'
                          : key->key() == Qt::Key_K ? 'k'
                                                    : 0;
      if (action) {
        act(action);
        return true;
      }
    }
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace tlab::ui
