#include "ui/pages/EvaluatePage.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

#include "ui/controllers/EvaluateController.h"
#include "ui/widgets/PlotLabels.h"
#include "ui/workers/Async.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
EvaluatePage::EvaluatePage(EvaluateController* controller, QWidget* parent)
    : QWidget(parent),
      controller_(controller),
      title_(new QLabel(tr("Train a model: its test-set evaluation appears here."), this)),
      normalised_(new QCheckBox(tr("Normalise rows (recall)"), this)),
      plot_(new QCustomPlot(this)),
      map_(new QCPColorMap(plot_->xAxis, plot_->yAxis)),
      classes_(new QTableWidget(0, 5, this)),
      galleryTitle_(new QLabel(this)),
      gallery_(new QListWidget(this)),
      mistakes_(new QPushButton(tr("Most confident mistakes"), this)),
      exportCsv_(new QPushButton(tr("Export predictions\u2026"), this)) {
  setUpWidgets();
  buildLayout();
  connect(controller_, &EvaluateController::evaluationChanged, this, &EvaluatePage::showEvaluation);
  connect(controller_, &EvaluateController::galleryChanged, this, &EvaluatePage::showGallery);
  connect(normalised_, &QCheckBox::toggled, this, &EvaluatePage::showMatrix);
  connect(mistakes_, &QPushButton::clicked, this, [this] { controller_->showMistakes(); });
  connect(exportCsv_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export predictions"), QStringLiteral("predictions.csv"), tr("CSV (*.csv)"));
    QString error;
    if (!path.isEmpty() && !controller_->exportPredictions(path, &error))
      QMessageBox::warning(this, tr("Export failed"), error);
  });
  connect(plot_, &QCustomPlot::mousePress, this, &EvaluatePage::onPlotClick);
  connect(gallery_, &QListWidget::customContextMenuRequested, this, &EvaluatePage::galleryMenu);
}

void EvaluatePage::setUpWidgets() {
  plot_->setMinimumSize(320, 300);
  plot_->xAxis->setLabel(tr("predicted"));
  plot_->yAxis->setLabel(tr("true"));
  plot_->yAxis->setRangeReversed(true);
  map_->setInterpolate(false);
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0, QColor(247, 250, 255));
  g.setColorStopAt(0.5, QColor(107, 174, 214));
  g.setColorStopAt(1, QColor(8, 48, 107));
  map_->setGradient(g);
  classes_->setHorizontalHeaderLabels(
      {tr("Class"), tr("Precision"), tr("Recall"), tr("F1"), tr("Support")});
  classes_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  classes_->verticalHeader()->hide();
  classes_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  classes_->setMaximumWidth(520);
  gallery_->setViewMode(QListView::IconMode);
  gallery_->setIconSize(QSize(kThumbnailSide, kThumbnailSide));
  gallery_->setResizeMode(QListView::Adjust);
  gallery_->setWordWrap(true);
  gallery_->setGridSize(QSize(kThumbnailSide + 40, kThumbnailSide + 44));
  gallery_->setContextMenuPolicy(Qt::CustomContextMenu);
}

void EvaluatePage::buildLayout() {
  auto* top = new QHBoxLayout;
  top->addWidget(title_, 1);
  top->addWidget(normalised_);
  top->addWidget(mistakes_);
  top->addWidget(exportCsv_);
  auto* upper = new QSplitter(Qt::Horizontal, this);
  upper->addWidget(plot_);
  upper->addWidget(classes_);
  upper->setStretchFactor(0, 3);
  upper->setStretchFactor(1, 2);
  auto* lower = new QWidget(this);
  auto* lowerLayout = new QVBoxLayout(lower);
  lowerLayout->setContentsMargins(0, 0, 0, 0);
  lowerLayout->addWidget(galleryTitle_);
  lowerLayout->addWidget(gallery_, 1);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->setObjectName(QStringLiteral("evaluateSplitter"));
  split->addWidget(upper);
  split->addWidget(lower);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(split, 1);
}

EvaluatePage::~EvaluatePage() = default;

void EvaluatePage::showEvaluation() {
  const auto& r = controller_->evaluation();
  title_->setText(tr("<b>%1</b> \u00b7 %2 samples \u00b7 accuracy %3% \u00b7 macro-F1 %4")
                      .arg(controller_->title())
                      .arg(r.count)
                      .arg(100 * r.accuracy, 0, 'f', 1)
                      .arg(r.macroF1, 0, 'f', 3));
  classes_->setRowCount(int(r.perClass.size()));
  for (int i = 0; i < int(r.perClass.size()); ++i) {
    const auto& c = r.perClass[size_t(i)];
    classes_->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(c.name)));
    int col = 1;
    for (double v : {c.precision, c.recall, c.f1}) {
      auto* item = new QTableWidgetItem;
      item->setData(Qt::DisplayRole, QString::number(v, 'f', 3).toDouble());
      classes_->setItem(i, col++, item);
    }
    auto* support = new QTableWidgetItem;
    support->setData(Qt::DisplayRole, qlonglong(c.support));
    classes_->setItem(i, 4, support);
  }
  classes_->resizeColumnsToContents();
  showMatrix();
}

void EvaluatePage::showMatrix() {
  const auto& r = controller_->evaluation();
  const int n = int(r.confusion.size());
  plot_->clearItems();
  if (n == 0) {
    plot_->replot();
    return;
  }
  double maxValue = 0;
  for (int t = 0; t < n; ++t) {
    int64_t rowTotal = 0;
    for (int p = 0; p < n; ++p) rowTotal += r.confusion[size_t(t)][size_t(p)];
    for (int p = 0; p < n; ++p) {
      const double c = double(r.confusion[size_t(t)][size_t(p)]);
      maxValue =
          std::max(maxValue, normalised_->isChecked() ? (rowTotal ? c / double(rowTotal) : 0) : c);
    }
  }
  map_->data()->setSize(n, n);
  map_->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
  for (int t = 0; t < n; ++t) {
    int64_t rowTotal = 0;
    for (int p = 0; p < n; ++p) rowTotal += r.confusion[size_t(t)][size_t(p)];
    for (int p = 0; p < n; ++p) {
      const double count = double(r.confusion[size_t(t)][size_t(p)]);
      const double v = normalised_->isChecked() ? (rowTotal ? count / double(rowTotal) : 0) : count;
      map_->data()->setCell(p, t, v);
      if (n <= 20) {  // numbers in the cells while they fit
        auto* label = new QCPItemText(plot_);
        label->position->setCoords(p, t);
        label->setText(normalised_->isChecked() ? QString::number(v, 'f', 2)
                                                : QString::number(qlonglong(count)));
        label->setFont(QFont(font().family(), n > 12 ? 7 : 9));
        label->setColor(v > 0.55 * maxValue ? Qt::white : Qt::black);  // readable on dark cells
      }
    }
  }
  map_->rescaleDataRange(true);
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  QStringList names;
  for (int c = 0; c < n; ++c) {
    names << QString::fromStdString(r.classNames[size_t(c)]);
    ticker->addTick(c, names.last());
  }
  plot_->xAxis->setTicker(ticker);
  plot_->yAxis->setTicker(ticker);
  fitRotatedTickLabels(plot_, names);
  plot_->xAxis->setRange(-0.5, n - 0.5);
  plot_->yAxis->setRange(-0.5, n - 0.5);
  plot_->replot();
}

QPoint EvaluatePage::cellCentre(int trueClass, int predictedClass) const {
  return QPoint(int(plot_->xAxis->coordToPixel(predictedClass)),
                int(plot_->yAxis->coordToPixel(trueClass)));
}

void EvaluatePage::onPlotClick(QMouseEvent* event) {
  const int n = int(controller_->evaluation().confusion.size());
  const int p = int(std::lround(plot_->xAxis->pixelToCoord(event->pos().x())));
  const int t = int(std::lround(plot_->yAxis->pixelToCoord(event->pos().y())));
  if (p >= 0 && p < n && t >= 0 && t < n) controller_->selectCell(t, p);
}

void EvaluatePage::showGallery() {
  gallery_->clear();
  galleryTitle_->setText(controller_->galleryTitle());
  const auto& items = controller_->gallery();
  const auto dataset = controller_->dataset();
  const bool text = dataset && dataset->modality == core::Modality::Text;
  gallery_->setViewMode(text ? QListView::ListMode : QListView::IconMode);
  gallery_->setGridSize(text ? QSize() : QSize(kThumbnailSide + 40, kThumbnailSide + 44));
  std::vector<size_t> samples;
  for (const GalleryItem& g : items) {
    const QString caption = tr("%1 \u2192 %2 (%3%)")
                                .arg(g.trueLabel, g.predictedLabel)
                                .arg(100 * g.confidence, 0, 'f', 0);
    auto* item = new QListWidgetItem(
        text ? caption + QStringLiteral(": ") + g.text.left(300) : caption, gallery_);
    item->setData(Qt::UserRole, qulonglong(g.sample));
    item->setToolTip(tr("sample %1\ntrue: %2\npredicted: %3 (%4%)\nloss %5")
                         .arg(g.sample)
                         .arg(g.trueLabel, g.predictedLabel)
                         .arg(100 * g.confidence, 0, 'f', 1)
                         .arg(g.loss, 0, 'f', 3) +
                     (text ? QStringLiteral("\n\n") + g.text.left(2000) : QString()));
    samples.push_back(g.sample);
  }
  if (text || !dataset || samples.empty()) return;
  // Thumbnails off the GUI thread; a newer gallery makes this result stale.
  const qreal ratio = screenPixelRatio();
  galleryTask_.start(
      [dataset, samples, ratio](const std::atomic<bool>& cancelled) {
        QVector<QImage> out;
        for (size_t s : samples) {
          if (cancelled) break;
          out.push_back(sampleImage(*dataset, s, kThumbnailSide, ratio));
        }
        return out;
      },
      [this](const QVector<QImage>& images) {
        for (int i = 0; i < images.size() && i < gallery_->count(); ++i)
          if (!images[i].isNull()) gallery_->item(i)->setIcon(QPixmap::fromImage(images[i]));
      });
}

void EvaluatePage::galleryMenu(const QPoint& pos) {
  QListWidgetItem* item = gallery_->itemAt(pos);
  if (!item) return;
  const size_t sample = item->data(Qt::UserRole).toULongLong();
  QMenu menu(this);
  QMenu* relabel = menu.addMenu(tr("Relabel as"));
  for (const auto& name : controller_->evaluation().classNames) {
    const QString c = QString::fromStdString(name);
    relabel->addAction(c, this, [this, sample, c] { controller_->relabel(sample, c); });
  }
  menu.addAction(tr("Exclude from the dataset"), this,
                 [this, sample] { controller_->relabel(sample, QString()); });
  menu.exec(gallery_->viewport()->mapToGlobal(pos));
}

}  // namespace tlab::ui
