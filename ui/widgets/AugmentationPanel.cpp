#include "ui/widgets/AugmentationPanel.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>
#include <algorithm>

#include "core/train/TrainPlan.h"
#include "core/zoo/BackboneCatalog.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {
namespace {

constexpr int kCellSide = 112;  // logical pixels per preview cell

QDoubleSpinBox* spin(QWidget* parent, double lo, double hi, double step, int decimals,
                     const QString& tip) {
  auto* s = new QDoubleSpinBox(parent);
  s->setRange(lo, hi);
  s->setSingleStep(step);
  s->setDecimals(decimals);
  s->setToolTip(tip);
  s->setKeyboardTracking(false);  // one edit per value, not per keystroke
  return s;
}

// The input pipeline the trainer will use, or nothing for a text backbone.
std::optional<core::Preprocess> imagePreprocess(const core::TrainConfig& c,
                                                const core::BackboneCatalog* catalog) {
  const core::BackboneCatalog empty;
  const core::BackboneCatalog& cat = catalog ? *catalog : empty;
  if (const auto* e = cat.find(c.backbone); e && e->isText()) return std::nullopt;
  return core::runPreprocess(c, cat);
}

// What training will really do with these settings, in words: the resolved crop area, and
// whether cached features (never augmented) serve some or all of the run.
QString effectiveText(const core::TrainConfig& c, const core::Augmentation& a, int inputSize) {
  if (!a.enabled) return AugmentationPanel::tr("Off: training sees the same view as evaluation.");
  QString text =
      AugmentationPanel::tr("In use at %1\u00d7%1 px: crops keep %2\u2013%3 of the area%4.")
          .arg(inputSize)
          .arg(a.minScale, 0, 'f', 2)
          .arg(a.maxScale, 0, 'f', 2)
          .arg(c.augmentation.minScale <= 0 ? AugmentationPanel::tr(" (automatic)") : QString());
  const auto phases = core::trainPhases(c);
  const auto cached = std::count_if(phases.begin(), phases.end(), [&](const core::TrainPhase& p) {
    return core::phaseUsesFeatureCache(c, p);
  });
  if (cached == long(phases.size())) {
    text += QLatin1Char(' ') + AugmentationPanel::tr(
                                   "<b>No effect with these training settings:</b> the frozen "
                                   "backbone's features of the evaluation view are cached and "
                                   "reused every epoch. Turn off the feature cache (Train page) "
                                   "to train on augmented images.");
  } else if (cached > 0) {
    text += QLatin1Char(' ') + AugmentationPanel::tr(
                                   "The linear-probe phase trains on cached "
                                   "features without augmentation; the "
                                   "fine-tuning phase uses it.");
  }
  return text;
}

}  // namespace

AugmentationPanel::AugmentationPanel(ProjectController* project, DatasetController* datasets,
                                     QWidget* parent)
    : QWidget(parent),
      project_(project),
      preview_(new AugmentationPreview(this)),
      enabled_(new QCheckBox(tr("Augment training images"), this)),
      minScale_(spin(this, 0, 1, 0.05, 2,
                     tr("Random resized crop: the smallest fraction of the image area a crop "
                        "keeps. \"auto\" uses 0.08 (the ImageNet recipe), or 0.7 for inputs "
                        "of 64 px or less, where small crops lose the object."))),
      maxScale_(spin(this, 0.01, 1, 0.05, 2, tr("The largest fraction of the area a crop keeps."))),
      minRatio_(spin(this, 0.1, 10, 0.05, 2, tr("Narrowest crop aspect ratio (width/height)."))),
      maxRatio_(spin(this, 0.1, 10, 0.05, 2, tr("Widest crop aspect ratio (width/height)."))),
      hflip_(spin(this, 0, 1, 0.1, 2,
                  tr("Probability of a left-right mirror. Set 0 where mirroring changes the "
                     "class (digits, text, left/right anatomy)."))),
      rotation_(
          spin(this, 0, 180, 5, 0, tr("Random rotation, uniform in \u00b1 this many degrees."))),
      brightness_(spin(this, 0, 0.95, 0.05, 2, tr("Brightness jitter: factor in 1 \u00b1 this."))),
      contrast_(spin(this, 0, 0.95, 0.05, 2, tr("Contrast jitter: factor in 1 \u00b1 this."))),
      saturation_(spin(this, 0, 0.95, 0.05, 2,
                       tr("Saturation jitter: factor in 1 \u00b1 this (colour images only)."))),
      reset_(new QPushButton(tr("Reset to defaults"), this)),
      redraw_(new QPushButton(tr("New draw"), this)),
      effective_(new QLabel(this)),
      status_(new QLabel(this)),
      grid_(new QGridLayout) {
  try {
    catalog_ = std::make_shared<const core::BackboneCatalog>(core::BackboneCatalog::loadDefault());
  } catch (const std::exception& e) {
    status_->setText(tr("Backbone catalog unavailable (%1); previewing at 224 px.").arg(e.what()));
  }
  minScale_->setSpecialValueText(tr("auto"));
  enabled_->setToolTip(
      tr("Training images are randomly cropped, flipped, rotated and colour-"
         "jittered, differently in every epoch; evaluation never is."));
  redraw_->setToolTip(tr("Show the same samples in later epochs (different random draws)."));
  effective_->setWordWrap(true);
  status_->setWordWrap(true);
  status_->setTextFormat(Qt::PlainText);  // it quotes file names and error messages

  auto* gridHost = new QWidget(this);
  auto* gridColumn = new QVBoxLayout(gridHost);
  gridColumn->addLayout(grid_);
  gridColumn->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(gridHost);
  scroll->setWidgetResizable(true);
  auto* right = new QVBoxLayout;
  right->addWidget(status_);
  right->addWidget(scroll, 1);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(buildSettings());
  layout->addLayout(right, 1);

  connectControls(datasets);
  showConfig();
}

QGroupBox* AugmentationPanel::buildSettings() {
  auto* form = new QFormLayout;
  form->addRow(enabled_);
  auto pair = [this](QDoubleSpinBox* a, QDoubleSpinBox* b) {
    auto* row = new QHBoxLayout;
    row->addWidget(a);
    row->addWidget(new QLabel(QStringLiteral("\u2013"), this));
    row->addWidget(b);
    return row;
  };
  form->addRow(tr("Crop area"), pair(minScale_, maxScale_));
  form->addRow(tr("Aspect ratio"), pair(minRatio_, maxRatio_));
  form->addRow(tr("Mirror probability"), hflip_);
  form->addRow(tr("Rotation \u00b1\u00b0"), rotation_);
  form->addRow(tr("Brightness"), brightness_);
  form->addRow(tr("Contrast"), contrast_);
  form->addRow(tr("Saturation"), saturation_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(reset_);
  buttons->addWidget(redraw_);
  form->addRow(buttons);
  form->addRow(effective_);
  auto* settings = new QGroupBox(tr("Training augmentation"), this);
  settings->setLayout(form);
  return settings;
}

void AugmentationPanel::connectControls(DatasetController* datasets) {
  auto onEdit = [this](const QString& what) { return [this, what] { commit(what); }; };
  connect(enabled_, &QCheckBox::toggled, this, onEdit(tr("toggle augmentation")));
  const std::pair<QDoubleSpinBox*, QString> edits[] = {
      {minScale_, tr("change crop area")},       {maxScale_, tr("change crop area")},
      {minRatio_, tr("change aspect ratio")},    {maxRatio_, tr("change aspect ratio")},
      {hflip_, tr("change mirror probability")}, {rotation_, tr("change rotation")},
      {brightness_, tr("change brightness")},    {contrast_, tr("change contrast")},
      {saturation_, tr("change saturation")}};
  for (const auto& [box, what] : edits)
    connect(box, qOverload<double>(&QDoubleSpinBox::valueChanged), this, onEdit(what));
  connect(reset_, &QPushButton::clicked, this, [this] {
    core::TrainConfig c = project_->project().config;
    c.augmentation = core::TrainConfig{}.augmentation;
    project_->setConfig(c, tr("reset augmentation"));
  });
  connect(redraw_, &QPushButton::clicked, this, [this] {
    firstEpoch_ += kEpochColumns;
    requestPreview();
  });
  connect(project_, &ProjectController::configChanged, this, &AugmentationPanel::showConfig);
  connect(project_, &ProjectController::projectReplaced, this, &AugmentationPanel::showConfig);
  connect(datasets, &DatasetController::loaded, this,
          [this](std::shared_ptr<const core::Dataset> ds) {
            dataset_ = std::move(ds);
            firstEpoch_ = 0;
            requestPreview();
          });
  connect(preview_, &AugmentationPreview::ready, this, &AugmentationPanel::showGrid);
}

QString AugmentationPanel::statusText() const { return status_->text(); }
QString AugmentationPanel::inEffectText() const { return effective_->text(); }

void AugmentationPanel::showConfig() {
  const core::Augmentation& a = project_->project().config.augmentation;
  updating_ = true;
  enabled_->setChecked(a.enabled);
  minScale_->setValue(a.minScale);
  maxScale_->setValue(a.maxScale);
  minRatio_->setValue(a.minRatio);
  maxRatio_->setValue(a.maxRatio);
  hflip_->setValue(a.hflipProbability);
  rotation_->setValue(a.rotationDegrees);
  brightness_->setValue(a.brightness);
  contrast_->setValue(a.contrast);
  saturation_->setValue(a.saturation);
  for (QWidget* w :
       std::initializer_list<QWidget*>{minScale_, maxScale_, minRatio_, maxRatio_, hflip_,
                                       rotation_, brightness_, contrast_, saturation_})
    w->setEnabled(a.enabled);
  updating_ = false;
  requestPreview();
}

void AugmentationPanel::commit(const QString& what) {
  if (updating_) return;
  core::TrainConfig c = project_->project().config;
  core::Augmentation& a = c.augmentation;
  a.enabled = enabled_->isChecked();
  a.minScale = minScale_->value();
  a.maxScale = std::max(maxScale_->value(), a.minScale);  // a range never runs backwards
  a.minRatio = minRatio_->value();
  a.maxRatio = std::max(maxRatio_->value(), a.minRatio);
  a.hflipProbability = hflip_->value();
  a.rotationDegrees = rotation_->value();
  a.brightness = brightness_->value();
  a.contrast = contrast_->value();
  a.saturation = saturation_->value();
  project_->setConfig(c, what);  // configChanged -> showConfig() -> new preview
}

void AugmentationPanel::requestPreview() {
  const core::TrainConfig& c = project_->project().config;
  auto noPreview = [this](const QString& why) {
    clearGrid();
    status_->setText(why);
  };
  if (!dataset_) return noPreview(tr("Open a dataset to preview augmentation."));
  if (dataset_->modality == core::Modality::Text)
    return noPreview(tr("Texts are not augmented; these settings apply to image datasets."));
  std::optional<core::Preprocess> p;
  try {
    p = imagePreprocess(c, catalog_.get());
  } catch (const std::exception& e) {
    return noPreview(tr("Cannot preview: %1").arg(QString::fromUtf8(e.what())));
  }
  if (!p) return noPreview(tr("The chosen backbone reads text; pick an image backbone."));
  PreviewRequest r;
  r.dataset = dataset_;
  r.samples = previewSamples(*dataset_, kRows);
  r.preprocess = *p;
  r.augmentation = core::effectiveAugmentation(c, p->inputSize);
  r.seed = c.seed;
  for (int k = 0; k < kEpochColumns; ++k) r.epochs.push_back(firstEpoch_ + uint64_t(k));
  effective_->setText(effectiveText(c, r.augmentation, p->inputSize));
  status_->setText(tr("Rendering preview \u2026"));
  preview_->request(std::move(r));
}

void AugmentationPanel::clearGrid() {
  shown_ = {};
  while (QLayoutItem* item = grid_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
}

void AugmentationPanel::showGrid(const PreviewGrid& g) {
  if (g.dataset != dataset_) return;  // rendered for a dataset that has since been replaced
  clearGrid();
  shown_ = g;
  grid_->addWidget(new QLabel(tr("<b>Evaluation view</b>"), this), 0, 1, Qt::AlignCenter);
  for (size_t c = 0; c < g.epochs.size(); ++c) {
    grid_->addWidget(new QLabel(tr("<b>Epoch %1</b>").arg(g.epochs[c] + 1), this), 0, int(c) + 2,
                     Qt::AlignCenter);
  }
  const qreal dpr = devicePixelRatioF();
  for (size_t row = 0; row < g.samples.size(); ++row) {
    const auto& s = g.dataset->samples[g.samples[row]];
    auto* name = new QLabel(QString::fromStdString(g.dataset->classNames[size_t(s.label)]), this);
    name->setTextFormat(Qt::PlainText);
    name->setToolTip(QString::fromStdString(s.path));
    grid_->addWidget(name, int(row) + 1, 0);
    for (size_t c = 0; c <= g.epochs.size(); ++c) {
      const QImage img = g.cell(row, c);
      auto* cell = new QLabel(this);
      cell->setFixedSize(kCellSide, kCellSide);
      cell->setAlignment(Qt::AlignCenter);
      if (img.isNull()) {
        cell->setText(tr("unreadable"));
      } else {
        // Small inputs (28 px) are enlarged with visible pixels: that is what the model sees.
        const auto mode =
            img.width() < kCellSide ? Qt::FastTransformation : Qt::SmoothTransformation;
        QPixmap pm = QPixmap::fromImage(
            img.scaled(QSize(kCellSide, kCellSide) * dpr, Qt::KeepAspectRatio, mode));
        pm.setDevicePixelRatio(dpr);
        cell->setPixmap(pm);
      }
      grid_->addWidget(cell, int(row) + 1, int(c) + 1);
    }
  }
  status_->setText(
      g.errors.isEmpty()
          ? tr("%1 training samples, epochs %2\u2013%3 of seed %4.")
                .arg(g.samples.size())
                .arg(g.epochs.empty() ? 0 : g.epochs.front() + 1)
                .arg(g.epochs.empty() ? 0 : g.epochs.back() + 1)
                .arg(project_->project().config.seed)
          : tr("Some samples could not be shown: %1").arg(g.errors.join(QStringLiteral("; "))));
}

}  // namespace tlab::ui
