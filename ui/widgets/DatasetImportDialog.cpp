#include "ui/widgets/DatasetImportDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <limits>

#include "core/dataset/Split.h"
#include "ui/widgets/AugmentationPreview.h"
#include "ui/workers/Async.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
namespace {

struct PreviewJob {
  QString path;
  core::ReadOptions read;
  core::SplitSpec split;
  std::shared_ptr<const core::Dataset> listing;  // reuse instead of reading again
  qreal pixelRatio = 1.0;
};

DatasetPreview makePreview(const PreviewJob& job) {
  DatasetPreview p;
  try {
    p.listing = job.listing ? job.listing
                            : std::make_shared<const core::Dataset>(
                                  core::openDataset(job.path.toStdString(), job.read));
    core::Dataset ds = *p.listing;
    core::assignSplits(ds, job.split);
    p.splitCounts.assign(ds.numClasses(), {0, 0, 0});
    for (const auto& s : ds.samples) {
      if (s.label >= 0 && s.split != core::Split::None)
        ++p.splitCounts[size_t(s.label)][size_t(s.split) - 1];
    }
    for (size_t i : previewSamples(ds, DatasetImportDialog::kStripSamples)) {
      p.captions << QString::fromStdString(ds.classNames[size_t(ds.samples[i].label)]);
      if (ds.modality == core::Modality::Text) {
        p.texts << QString::fromStdString(ds.samples[i].text).left(300);
      } else {
        p.thumbnails.push_back(sampleImage(ds, i, kThumbnailSide, job.pixelRatio));
      }
    }
  } catch (const std::exception& e) {
    p.listing.reset();
    p.error = QString::fromUtf8(e.what());
  }
  return p;
}

const char* const kFormats[][2] = {
    {"auto", QT_TRANSLATE_NOOP("DatasetImportDialog", "Detect automatically")},
    {"folder", QT_TRANSLATE_NOOP("DatasetImportDialog", "Image folders (one per class)")},
    {"csv", QT_TRANSLATE_NOOP("DatasetImportDialog", "CSV/TSV manifest of image paths")},
    {"idx", QT_TRANSLATE_NOOP("DatasetImportDialog", "IDX files (MNIST format)")},
    {"hdf5", QT_TRANSLATE_NOOP("DatasetImportDialog", "HDF5 file")},
    {"text", QT_TRANSLATE_NOOP("DatasetImportDialog", "Texts (CSV/TSV/JSONL or .txt folders)")}};

}  // namespace

DatasetImportDialog::DatasetImportDialog(const core::DatasetSettings& current, QWidget* parent)
    : QDialog(parent),
      path_(new QLineEdit(QString::fromStdString(current.path), this)),
      format_(new QComboBox(this)),
      outside_(new QCheckBox(tr("Manifest may name files outside its folder"), this)),
      keepSplit_(new QCheckBox(tr("Keep the dataset's own train/val/test split"), this)),
      val_(new QDoubleSpinBox(this)),
      test_(new QDoubleSpinBox(this)),
      seed_(new QSpinBox(this)),
      summary_(new QLabel(this)),
      skipped_(new QLabel(this)),
      classes_(new QTableWidget(0, 4, this)),
      strip_(new QWidget(this)),
      browseFolder_(new QPushButton(tr("Folder\u2026"), this)),
      browseFile_(new QPushButton(tr("File\u2026"), this)),
      buttons_(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this)),
      debounce_(new QTimer(this)),
      previewTask_(this) {
  setWindowTitle(tr("Import dataset"));
  setUpControls(current);
  buildLayout();
  connectControls();
  okButton()->setEnabled(false);
  schedulePreview();
}

void DatasetImportDialog::setUpControls(const core::DatasetSettings& current) {
  for (const auto& f : kFormats) format_->addItem(tr(f[1]), QString::fromLatin1(f[0]));
  format_->setCurrentIndex(std::max(0, format_->findData(QString::fromStdString(current.format))));
  outside_->setChecked(current.allowPathsOutside);
  outside_->setToolTip(
      tr("Off by default, so a manifest from elsewhere cannot make the "
         "application read arbitrary files (\"../../\" paths are refused)."));
  keepSplit_->setChecked(current.keepPredefinedSplit);
  keepSplit_->setToolTip(
      tr("Where the source defines splits (train/ and test/ folders, a split "
         "column, IDX t10k files) use them and only carve out what is missing."));
  for (QDoubleSpinBox* b : {val_, test_}) {
    b->setRange(0, 0.9);
    b->setSingleStep(0.05);
    b->setDecimals(2);
  }
  val_->setValue(current.valFraction);
  test_->setValue(current.testFraction);
  seed_->setRange(0, std::numeric_limits<int>::max());
  seed_->setValue(
      int(std::min<uint64_t>(current.splitSeed, uint64_t(std::numeric_limits<int>::max()))));
  seed_->setToolTip(
      tr("The same seed gives the same split on every machine; each class is "
         "split on its own (stratified)."));
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  skipped_->setWordWrap(true);
  classes_->setHorizontalHeaderLabels({tr("Class"), tr("Train"), tr("Val"), tr("Test")});
  classes_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  classes_->verticalHeader()->hide();
  classes_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  debounce_->setSingleShot(true);
  debounce_->setInterval(250);
}

void DatasetImportDialog::buildLayout() {
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_, 1);
  pathRow->addWidget(browseFolder_);
  pathRow->addWidget(browseFile_);
  auto* source = new QFormLayout;
  source->addRow(tr("Location"), pathRow);
  source->addRow(tr("Format"), format_);
  source->addRow(outside_);
  auto* splitForm = new QFormLayout;
  splitForm->addRow(keepSplit_);
  splitForm->addRow(tr("Validation fraction"), val_);
  splitForm->addRow(tr("Test fraction"), test_);
  splitForm->addRow(tr("Split seed"), seed_);
  auto* sourceBox = new QGroupBox(tr("Source"), this);
  sourceBox->setLayout(source);
  auto* splitBox = new QGroupBox(tr("Split"), this);
  splitBox->setLayout(splitForm);
  auto* top = new QHBoxLayout;
  top->addWidget(sourceBox, 3);
  top->addWidget(splitBox, 2);
  auto* stripScroll = new QScrollArea(this);
  stripScroll->setWidget(strip_);
  stripScroll->setWidgetResizable(true);
  stripScroll->setMinimumHeight(kThumbnailSide + 70);
  new QHBoxLayout(strip_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(summary_);
  layout->addWidget(classes_, 1);
  layout->addWidget(stripScroll);
  layout->addWidget(skipped_);
  layout->addWidget(buttons_);
  resize(900, 680);
}

void DatasetImportDialog::connectControls() {
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browseFolder_, &QPushButton::clicked, this, [this] {
    const QString d = QFileDialog::getExistingDirectory(this, tr("Dataset folder"), path_->text());
    if (!d.isEmpty()) setPath(d);
  });
  connect(browseFile_, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(
        this, tr("Dataset file"), path_->text(),
        tr("Datasets (*.csv *.tsv *.jsonl *.txt *.h5 *.hdf5 *idx* *.gz);;All files (*)"));
    if (!f.isEmpty()) setPath(f);
  });
  connect(path_, &QLineEdit::textChanged, this, &DatasetImportDialog::schedulePreview);
  connect(format_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &DatasetImportDialog::schedulePreview);
  connect(outside_, &QCheckBox::toggled, this, &DatasetImportDialog::schedulePreview);
  connect(keepSplit_, &QCheckBox::toggled, this, &DatasetImportDialog::schedulePreview);
  connect(val_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          &DatasetImportDialog::schedulePreview);
  connect(test_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          &DatasetImportDialog::schedulePreview);
  connect(seed_, qOverload<int>(&QSpinBox::valueChanged), this,
          &DatasetImportDialog::schedulePreview);
  connect(debounce_, &QTimer::timeout, this, &DatasetImportDialog::startPreview);
}

// A listing still running when the dialog closes (a huge folder chosen by mistake) is
// cancelled; the application's synchronizer waits for it at exit, the dialog does not.
DatasetImportDialog::~DatasetImportDialog() = default;

QPushButton* DatasetImportDialog::okButton() const {
  return buttons_->button(QDialogButtonBox::Ok);
}
QString DatasetImportDialog::summaryText() const { return summary_->text(); }
bool DatasetImportDialog::isPreviewing() const {
  return debounce_->isActive() || previewTask_.isRunning();
}

void DatasetImportDialog::setPath(const QString& path) { path_->setText(path); }

core::DatasetSettings DatasetImportDialog::settings() const {
  core::DatasetSettings s;
  s.path = QFileInfo(path_->text().trimmed()).absoluteFilePath().toStdString();
  s.format = format_->currentData().toString().toStdString();
  s.allowPathsOutside = outside_->isChecked();
  s.keepPredefinedSplit = keepSplit_->isChecked();
  s.valFraction = val_->value();
  s.testFraction = test_->value();
  s.splitSeed = uint64_t(seed_->value());
  return s;
}

void DatasetImportDialog::schedulePreview() {
  okButton()->setEnabled(false);
  outside_->setEnabled(format_->currentData() == QLatin1String("auto") ||
                       format_->currentData() == QLatin1String("csv"));
  debounce_->start();
}

void DatasetImportDialog::startPreview() {
  previewTask_.cancel();  // the readers stop at the next file or row
  const core::DatasetSettings s = settings();
  if (path_->text().trimmed().isEmpty()) {
    summary_->setText(tr("Choose a dataset folder or file."));
    return;
  }
  if (s.valFraction + s.testFraction >= 0.95) {
    summary_->setText(
        tr("<span style='color:#a40000'>Validation and test fractions leave "
           "too little for training (at most 0.95 together).</span>"));
    return;
  }
  PreviewJob job;
  job.path = QString::fromStdString(s.path);
  job.read = core::readOptions(s);
  job.split = core::splitSpec(s);
  if (listingSource_ && core::sameSource(*listingSource_, s)) job.listing = listing_;
  job.pixelRatio = screenPixelRatio();
  listingSource_ = s;
  summary_->setText(tr("Reading %1 \u2026").arg(job.path.toHtmlEscaped()));
  previewTask_.start(
      [job](const std::atomic<bool>& cancelled) {
        PreviewJob j = job;
        j.read.cancel = &cancelled;
        return makePreview(j);
      },
      [this](DatasetPreview p) {
        preview_ = std::move(p);
        if (preview_.listing) {
          listing_ = preview_.listing;
        } else {
          listingSource_.reset();
        }
        showPreview();
      });
}

void DatasetImportDialog::showPreview() {
  QLayout* strip = strip_->layout();
  while (QLayoutItem* item = strip->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  const DatasetPreview& p = preview_;
  classes_->setRowCount(0);
  skipped_->clear();
  if (!p.listing) {
    summary_->setText(tr("<b>Cannot import this.</b><br>%1").arg(p.error.toHtmlEscaped()));
    emit previewReady(false);
    return;
  }
  const core::Dataset& ds = *p.listing;
  QString text = tr("<b>%1</b>: %2 samples in %3 classes (%4)")
                     .arg(QString::fromLatin1(ds.format.c_str()))
                     .arg(ds.size())
                     .arg(ds.numClasses())
                     .arg(ds.modality == core::Modality::Text ? tr("texts") : tr("images"));
  if (ds.hasPredefinedSplit()) text += tr(", with its own split");
  text += QLatin1Char('.');
  for (const auto& e : ds.structuralErrors()) {
    text += QStringLiteral("<br><span style='color:#a40000'>%1</span>")
                .arg(QString::fromStdString(e).toHtmlEscaped());
  }
  summary_->setText(text);
  fillClassTable();
  fillStrip();
  if (!ds.skipped.empty()) {
    QStringList lines;
    for (size_t i = 0; i < std::min<size_t>(3, ds.skipped.size()); ++i) {
      const auto& s = ds.skipped[i];
      lines << QStringLiteral("%1%2: %3")
                   .arg(QString::fromStdString(s.path),
                        s.line ? QStringLiteral(":%1").arg(s.line) : QString(),
                        QString::fromStdString(s.reason))
                   .toHtmlEscaped();
    }
    skipped_->setText(
        tr("%n item(s) skipped while reading, e.g.:", nullptr, int(ds.skipped.size())) +
        QStringLiteral("<br>") + lines.join(QStringLiteral("<br>")));
  }
  okButton()->setEnabled(ds.size() > 0);
  emit previewReady(true);
}

// Per class: train / val / test counts as training will split them, totals in the header.
void DatasetImportDialog::fillClassTable() {
  const DatasetPreview& p = preview_;
  const core::Dataset& ds = *p.listing;
  classes_->setRowCount(int(ds.numClasses()));
  std::array<int64_t, 3> totals{0, 0, 0};
  for (int c = 0; c < int(ds.numClasses()); ++c) {
    classes_->setItem(c, 0, new QTableWidgetItem(QString::fromStdString(ds.classNames[size_t(c)])));
    for (int k = 0; k < 3; ++k) {
      const int64_t n = p.splitCounts[size_t(c)][size_t(k)];
      totals[size_t(k)] += n;
      auto* item = new QTableWidgetItem(QString::number(n));
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      classes_->setItem(c, k + 1, item);
    }
  }
  classes_->setHorizontalHeaderLabels({tr("Class"), tr("Train (%1)").arg(totals[0]),
                                       tr("Val (%1)").arg(totals[1]),
                                       tr("Test (%1)").arg(totals[2])});
}

// The first samples, classes in turn: decoded thumbnails, or the texts as written.
void DatasetImportDialog::fillStrip() {
  const DatasetPreview& p = preview_;
  const core::Dataset& ds = *p.listing;
  QLayout* strip = strip_->layout();
  for (int i = 0; i < p.captions.size(); ++i) {
    auto* cell = new QWidget(strip_);
    auto* column = new QVBoxLayout(cell);
    auto* content = new QLabel(cell);
    auto* caption = new QLabel(p.captions[i], cell);
    content->setAlignment(Qt::AlignCenter);
    content->setTextFormat(Qt::PlainText);  // a text sample is shown as written, never as HTML
    caption->setAlignment(Qt::AlignCenter);
    caption->setTextFormat(Qt::PlainText);
    if (ds.modality == core::Modality::Text) {
      content->setText(p.texts[i]);
      content->setWordWrap(true);
      content->setFixedWidth(220);
    } else if (p.thumbnails[size_t(i)].isNull()) {
      content->setText(tr("(unreadable)"));
    } else {
      content->setPixmap(QPixmap::fromImage(p.thumbnails[size_t(i)]));
    }
    column->addWidget(content, 1);
    column->addWidget(caption);
    strip->addWidget(cell);
  }
}

}  // namespace tlab::ui
