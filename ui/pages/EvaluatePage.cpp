#include "ui/pages/EvaluatePage.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

#include "ui/controllers/EvaluateController.h"
#include "ui/controllers/ExplainController.h"
#include "ui/widgets/CalibrationView.h"
#include "ui/widgets/EmbeddingMap.h"
#include "ui/widgets/PlotLabels.h"
#include "ui/workers/Async.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
EvaluatePage::EvaluatePage(EvaluateController* controller, ExplainController* explain,
                           QWidget* parent)
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
      exportCsv_(new QPushButton(tr("Export predictions\u2026"), this)),
      explain_(explain),
      explainOn_(new QCheckBox(tr("Heat maps"), this)),
      opacity_(new QSlider(Qt::Horizontal, this)),
      explainClass_(new QComboBox(this)),
      explainLayer_(new QComboBox(this)),
      explainStatus_(new QLabel(this)),
      detailImage_(new QLabel(this)),
      detailText_(new QLabel(this)),
      tabs_(new QTabWidget(this)),
      calibration_(new CalibrationView(this)) {
  if (explain_) map2d_ = new EmbeddingMapView(explain_, this);
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
  connect(gallery_, &QListWidget::currentRowChanged, this, [this] { showDetail(); });
  if (!explain_) return;
  connect(explain_, &ExplainController::modelChanged, this, &EvaluatePage::explainModelChanged);
  connect(explain_, &ExplainController::settingsChanged, this, [this] {
    // Settings may come from elsewhere (the layer tree's "Explain at this layer").
    const QSignalBlocker b1(explainOn_), b2(explainLayer_), b3(explainClass_);
    explainOn_->setChecked(explain_->overlaysOn());
    explainLayer_->setCurrentText(explain_->layer());
    explainClass_->setCurrentIndex(std::max(0, explainClass_->findData(explain_->targetClass())));
    refreshIcons();
    showDetail();
  });
  connect(explain_, &ExplainController::mapsReady, this, [this] {
    explainStatus_->clear();
    refreshIcons();
    showDetail();
  });
  connect(explain_, &ExplainController::progress, this,
          [this](int done, int total, const QString& eta) {
            explainStatus_->setText(
                done < total ? tr("Explaining %1 of %2\u2026%3")
                                   .arg(done + 1)
                                   .arg(total)
                                   .arg(eta.isEmpty() ? QString() : QStringLiteral(" ") + eta)
                             : QString());
          });
  connect(explainOn_, &QCheckBox::toggled, explain_, &ExplainController::setOverlaysOn);
  connect(opacity_, &QSlider::valueChanged, this,
          [this](int v) { explain_->setOpacity(v / 100.0); });
  connect(explainClass_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
          [this](int i) { explain_->setTargetClass(explainClass_->itemData(i).toInt()); });
  connect(explainLayer_, &QComboBox::currentTextChanged, explain_, &ExplainController::setLayer);
  connect(map2d_, &EmbeddingMapView::samplesSelected, this,
          [this](const QVector<GalleryItem>& items, const QString& title) {
            controller_->showItems(items, title);
            tabs_->setCurrentIndex(0);
          });
  explainModelChanged();
}

void EvaluatePage::explainModelChanged() {
  const bool has = explain_ && explain_->hasModel();
  const bool text = has && explain_->isText();
  explainOn_->setText(text ? tr("Word attributions") : tr("Heat maps"));
  explainOn_->setEnabled(has);
  opacity_->setVisible(!text);
  explainLayer_->setVisible(!text && has && !explain_->layers().isEmpty());
  const QSignalBlocker b1(explainClass_), b2(explainLayer_);
  explainClass_->clear();
  explainClass_->addItem(tr("predicted class"), -1);
  if (has) {
    const auto& names = explain_->info().classNames;
    for (int c = 0; c < int(names.size()); ++c)
      explainClass_->addItem(QString::fromStdString(names[size_t(c)]), c);
    explainLayer_->clear();
    explainLayer_->addItems(explain_->layers());
    explainLayer_->setCurrentText(explain_->layer());
    explainClass_->setCurrentIndex(explainClass_->findData(explain_->targetClass()));
    explainOn_->setToolTip(tr("Explain with %1: what in each sample drives the class shown")
                               .arg(explain_->methodName()));
  }
  explainStatus_->clear();
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
  opacity_->setRange(0, 100);
  opacity_->setValue(50);
  opacity_->setMaximumWidth(140);
  opacity_->setToolTip(tr("Heat-map opacity"));
  explainClass_->setToolTip(tr("The class whose evidence is shown"));
  explainLayer_->setToolTip(
      tr("The layer Grad-CAM looks at (the last convolutional stage by "
         "default; earlier layers give finer, less semantic maps)"));
  explainOn_->setEnabled(false);
  detailImage_->setMinimumSize(260, 200);
  detailImage_->setAlignment(Qt::AlignCenter);
  detailText_->setWordWrap(true);
  detailText_->setTextFormat(Qt::RichText);
  detailText_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  detailText_->setMaximumWidth(320);
  detailText_->setText(tr("Select a sample to see it here."));
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
  auto* bar = new QHBoxLayout;
  bar->addWidget(galleryTitle_, 1);
  bar->addWidget(explainStatus_);
  bar->addWidget(explainOn_);
  bar->addWidget(opacity_);
  bar->addWidget(explainClass_);
  bar->addWidget(explainLayer_);
  lowerLayout->addLayout(bar);
  auto* detail = new QWidget(this);
  auto* detailLayout = new QVBoxLayout(detail);
  detailLayout->setContentsMargins(0, 0, 0, 0);
  detailLayout->addWidget(detailImage_);
  detailLayout->addWidget(detailText_, 1);
  auto* galleryAndDetail = new QSplitter(Qt::Horizontal, this);
  galleryAndDetail->addWidget(gallery_);
  galleryAndDetail->addWidget(detail);
  galleryAndDetail->setStretchFactor(0, 3);
  galleryAndDetail->setStretchFactor(1, 1);
  lowerLayout->addWidget(galleryAndDetail, 1);
  tabs_->addTab(lower, tr("Gallery"));
  if (map2d_) tabs_->addTab(map2d_, tr("Embedding map"));
  tabs_->addTab(calibration_, tr("Calibration"));
  tabs_->setDocumentMode(true);
  for (QWidget* w :
       std::initializer_list<QWidget*>{explainOn_, opacity_, explainClass_, explainLayer_})
    w->setVisible(explain_ != nullptr);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->setObjectName(QStringLiteral("evaluateSplitter"));
  split->addWidget(upper);
  split->addWidget(tabs_);
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
  std::vector<int32_t> labels;
  for (const auto& p : r.predictions) labels.push_back(p.label);
  if (r.logits.empty())
    calibration_->clear();
  else
    calibration_->setData(r.logits, labels, int64_t(r.classNames.size()),
                          controller_->temperature(), controller_->title());
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
  thumbs_.clear();
  detailSample_ = size_t(-1);
  std::vector<size_t> samples;
  for (const GalleryItem& g : items) {
    const QString caption = tr("%1 \u2192 %2 (%3%)")
                                .arg(g.trueLabel, g.predictedLabel)
                                .arg(100 * g.confidence, 0, 'f', 0);
    auto* item = new QListWidgetItem(
        text ? caption + QStringLiteral(": ") + g.text.left(300) : caption, gallery_);
    item->setData(Qt::UserRole, qulonglong(g.sample));
    item->setData(Qt::UserRole + 1, caption);
    item->setToolTip(tr("sample %1\ntrue: %2\npredicted: %3 (%4%)\nloss %5")
                         .arg(g.sample)
                         .arg(g.trueLabel, g.predictedLabel)
                         .arg(100 * g.confidence, 0, 'f', 1)
                         .arg(g.loss, 0, 'f', 3) +
                     (text ? QStringLiteral("\n\n") + g.text.left(2000) : QString()));
    samples.push_back(g.sample);
  }
  if (text || !dataset || samples.empty()) {
    refreshIcons();
    return;
  }
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
        thumbs_ = images;
        refreshIcons();
      });
}

// The gallery's icons (images) or rows (texts), with their explanation when overlays are on;
// asks the explainer for what it has not computed yet (the first 120 samples).
void EvaluatePage::refreshIcons() {
  const bool on = explain_ && explain_->overlaysOn() && explain_->hasModel() &&
                  controller_->dataset() == explain_->dataset();
  const bool text =
      controller_->dataset() && controller_->dataset()->modality == core::Modality::Text;
  std::vector<size_t> wanted;
  for (int i = 0; i < gallery_->count(); ++i) {
    QListWidgetItem* item = gallery_->item(i);
    const size_t sample = item->data(Qt::UserRole).toULongLong();
    if (text) {
      const SampleWords* w = on ? explain_->words(sample) : nullptr;
      if (w && w->error.isEmpty()) {
        auto* label = qobject_cast<QLabel*>(gallery_->itemWidget(item));
        if (!label) {
          label = new QLabel;
          label->setTextFormat(Qt::RichText);
          gallery_->setItemWidget(item, label);
        }
        label->setText(item->data(Qt::UserRole + 1).toString().toHtmlEscaped() +
                       QStringLiteral(": ") + ExplainController::highlightHtml(*w));
      } else if (gallery_->itemWidget(item)) {
        gallery_->removeItemWidget(item);
      }
    } else if (i < thumbs_.size() && !thumbs_[i].isNull()) {
      const SampleMap* m = on ? explain_->map(sample) : nullptr;
      const QImage shown = m && m->error.isEmpty() ? explain_->overlay(thumbs_[i], *m) : thumbs_[i];
      item->setIcon(QPixmap::fromImage(shown));
      item->setData(Qt::UserRole + 2, m != nullptr);
    }
    if (on && i < 120) wanted.push_back(sample);
  }
  if (on && !wanted.empty()) explain_->request(wanted);
}

QImage EvaluatePage::galleryIcon(int row) const {
  QListWidgetItem* item = gallery_->item(row);
  if (!item || item->icon().isNull()) return {};
  return item->icon().pixmap(kThumbnailSide, kThumbnailSide).toImage();
}

// The selected sample, larger, with its explanation and (texts) its highlighted words.
void EvaluatePage::showDetail() {
  QListWidgetItem* item = gallery_->currentItem();
  const auto dataset = controller_->dataset();
  if (!item || !dataset) {
    detailImage_->clear();
    detailText_->setText(tr("Select a sample to see it here."));
    return;
  }
  const size_t sample = item->data(Qt::UserRole).toULongLong();
  const bool on =
      explain_ && explain_->overlaysOn() && explain_->hasModel() && dataset == explain_->dataset();
  const QString caption = item->data(Qt::UserRole + 1).toString().toHtmlEscaped();
  if (on) explain_->request({sample});
  if (dataset->modality == core::Modality::Text) {
    detailImage_->hide();
    const SampleWords* w = on ? explain_->words(sample) : nullptr;
    QString body = QString::fromStdString(dataset->samples[sample].text).toHtmlEscaped();
    if (w && w->error.isEmpty()) {
      body = ExplainController::highlightHtml(*w) +
             tr("<br><small>green: evidence for <b>%1</b>, red: against it</small>")
                 .arg(QString::fromStdString(explain_->info().classNames.at(size_t(w->classIndex)))
                          .toHtmlEscaped());
    }
    detailText_->setText(QStringLiteral("<b>%1</b><br>%2").arg(caption, body));
    return;
  }
  detailImage_->show();
  const auto render = [this, sample, on, caption] {
    const SampleMap* m = on ? explain_->map(sample) : nullptr;
    QImage shown = detailPlain_;
    QString extra;
    if (m && m->error.isEmpty()) {
      shown = explain_->overlay(detailPlain_, *m);
      const auto& names = explain_->info().classNames;
      extra =
          tr("<br>%1 of <b>%2</b> (p = %3)")
              .arg(explain_->methodName(), QString::fromStdString(names.at(size_t(m->classIndex))))
              .arg(m->probability, 0, 'f', 3);
      if (!explain_->layer().isEmpty()) extra += tr(" at %1").arg(explain_->layer());
      extra += m->peak.x() >= 0 ? tr("<br>peak at (%1, %2)").arg(m->peak.x()).arg(m->peak.y())
                                : tr("<br>no evidence for this class anywhere");
    } else if (m) {
      extra = tr("<br>cannot explain: %1").arg(m->error.toHtmlEscaped());
    }
    detailImage_->setPixmap(QPixmap::fromImage(shown));
    detailText_->setText(QStringLiteral("<b>%1</b>%2").arg(caption, extra));
  };
  if (detailSample_ == sample && !detailPlain_.isNull()) {
    render();
    return;
  }
  detailSample_ = sample;
  detailPlain_ = QImage();
  const qreal ratio = screenPixelRatio();
  detailTask_.start([dataset, sample, ratio] { return sampleImage(*dataset, sample, 256, ratio); },
                    [this, render](const QImage& img) {
                      detailPlain_ = img;
                      render();
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
