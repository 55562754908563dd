#include "ui/widgets/TrainSettingsForm.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSpinBox>
#include <cmath>

namespace tlab::ui {
namespace {

struct StrategyInfo {
  core::Strategy strategy;
  const char* label;
  const char* tip;
};

const StrategyInfo kStrategies[] = {
    {core::Strategy::LinearProbe, "Linear probe",
     "Freeze the whole pre-trained backbone and train only the new head. Fast (features are "
     "computed once and cached) and hard to overfit: the first thing to try on little data."},
    {core::Strategy::FinetuneLast, "Fine-tune last stages",
     "Train the head and the last N stages of the backbone; earlier, generic layers stay "
     "frozen. A good default when the new task differs somewhat from the pre-training data."},
    {core::Strategy::Full, "Full fine-tune",
     "Train every layer, the backbone at a lower rate than the head. Most capacity, most "
     "compute, and the easiest to overfit on a small dataset."},
    {core::Strategy::LpFt, "Linear probe, then fine-tune (LP-FT)",
     "Train the head first with the backbone frozen, then fine-tune everything at a lower rate, "
     "so the random head does not wreck the pre-trained features early on."},
    {core::Strategy::Scratch, "From scratch",
     "The same architecture with random weights: the baseline that shows what pre-training "
     "bought."}};

QDoubleSpinBox* rateBox(QWidget* parent, double min, double max, int decimals) {
  auto* b = new QDoubleSpinBox(parent);
  b->setDecimals(decimals);
  b->setRange(min, max);
  b->setSingleStep(std::pow(10.0, -decimals + 1));
  return b;
}

}  // namespace

TrainSettingsForm::TrainSettingsForm(QWidget* parent)
    : QWidget(parent),
      strategy_(new QComboBox(this)),
      optimizer_(new QComboBox(this)),
      schedule_(new QComboBox(this)),
      precision_(new QComboBox(this)),
      epochs_(new QSpinBox(this)),
      batch_(new QSpinBox(this)),
      inputSize_(new QSpinBox(this)),
      stages_(new QSpinBox(this)),
      lr_(rateBox(this, 1e-6, 1.0, 6)),
      backboneLr_(rateBox(this, 0.0, 1.0, 3)),
      weightDecay_(rateBox(this, 0.0, 1.0, 5)),
      labelSmoothing_(rateBox(this, 0.0, 0.5, 2)),
      augment_(new QCheckBox(tr("Augment training images"), this)),
      featureCache_(new QCheckBox(tr("Cache frozen-backbone features"), this)) {
  fillChoices();
  setToolTips();
  buildLayout();
  connectEdits();
  setConfig(config_);
}

void TrainSettingsForm::fillChoices() {
  for (const auto& s : kStrategies) {
    strategy_->addItem(tr(s.label), int(s.strategy));
    strategy_->setItemData(strategy_->count() - 1, tr(s.tip), Qt::ToolTipRole);
  }
  for (const auto& [kind, name] : core::kOptimizerNames.entries)
    optimizer_->addItem(QString::fromLatin1(name));
  for (const auto& [kind, name] : core::kScheduleNames.entries)
    schedule_->addItem(QString::fromLatin1(name));
  for (const auto& [kind, name] : core::kPrecisionNames.entries)
    precision_->addItem(QString::fromLatin1(name));
  epochs_->setRange(1, 1000);
  batch_->setRange(1, 4096);
  inputSize_->setRange(0, 1024);
  inputSize_->setSpecialValueText(tr("backbone default"));
  stages_->setRange(0, 64);
}

void TrainSettingsForm::setToolTips() {
  strategy_->setToolTip(
      tr("How much of the pre-trained network to train. Hover an entry for "
         "what it does."));
  lr_->setToolTip(
      tr("Learning rate of the head; backbone layers use it times the backbone "
         "multiplier. Use Train \u2192 Find Learning Rate for a measured value."));
  backboneLr_->setToolTip(
      tr("Backbone rate = rate x this (discriminative fine-tuning): "
         "pre-trained layers usually want a 10x smaller rate than the head."));
  stages_->setToolTip(
      tr("Fine-tune last stages: how many backbone stages (ResNet layers, "
         "transformer blocks) train besides the head."));
  inputSize_->setToolTip(
      tr("Image side in pixels, or tokens per text; 0 keeps the backbone's "
         "own input size."));
  weightDecay_->setToolTip(tr("Decoupled weight decay (AdamW) or L2 (SGD, Adam)."));
  labelSmoothing_->setToolTip(
      tr("Spreads this much target probability over the other classes; "
         "0.1 often helps with noisy labels."));
  const std::string bf16 = core::nativeBf16Feature();
  precision_->setToolTip(
      tr("bf16: convolutions and matrix products in bfloat16 (autocast); weights, optimizer, "
         "checkpoints and the feature cache stay fp32. auto: bf16 only on CPUs that compute "
         "it natively. This CPU: %1.")
          .arg(bf16.empty() ? tr("no native bf16 (auto uses fp32)")
                            : tr("%1 (auto uses bf16)").arg(QString::fromStdString(bf16))));
  featureCache_->setToolTip(
      tr("With a frozen backbone, compute its features once, store them on "
         "disk and train the head on them: epochs take milliseconds."));
  augment_->setToolTip(
      tr("Random crops, flips and colour jitter on training images (images "
         "only; texts are never augmented). The settings, with a live preview of "
         "what training will see: Data page, Augmentation tab."));
}

void TrainSettingsForm::buildLayout() {
  auto* form = new QFormLayout(this);
  form->addRow(tr("Strategy"), strategy_);
  form->addRow(tr("Epochs"), epochs_);
  form->addRow(tr("Batch size"), batch_);
  form->addRow(tr("Learning rate"), lr_);
  form->addRow(tr("Backbone rate \u00d7"), backboneLr_);
  form->addRow(tr("Trainable stages"), stages_);
  form->addRow(tr("Optimizer"), optimizer_);
  form->addRow(tr("Schedule"), schedule_);
  form->addRow(tr("Weight decay"), weightDecay_);
  form->addRow(tr("Label smoothing"), labelSmoothing_);
  form->addRow(tr("Input size"), inputSize_);
  form->addRow(tr("Precision"), precision_);
  form->addRow(augment_);
  form->addRow(featureCache_);
}

// Every control edits the config; the strategy box also applies that strategy's defaults.
void TrainSettingsForm::connectEdits() {
  connect(strategy_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    if (updating_) return;
    config_ = core::withStrategyDefaults(config_, core::Strategy(strategy_->currentData().toInt()));
    setConfig(config_);
    emit edited(config_, tr("change strategy"));
  });
  auto onEdit = [this](const QString& what) { return [this, what] { commit(what); }; };
  connect(epochs_, qOverload<int>(&QSpinBox::valueChanged), this, onEdit(tr("change epochs")));
  connect(batch_, qOverload<int>(&QSpinBox::valueChanged), this, onEdit(tr("change batch size")));
  connect(inputSize_, qOverload<int>(&QSpinBox::valueChanged), this,
          onEdit(tr("change input size")));
  connect(stages_, qOverload<int>(&QSpinBox::valueChanged), this,
          onEdit(tr("change trainable stages")));
  connect(lr_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          onEdit(tr("change learning rate")));
  connect(backboneLr_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          onEdit(tr("change backbone rate")));
  connect(weightDecay_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          onEdit(tr("change weight decay")));
  connect(labelSmoothing_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          onEdit(tr("change label smoothing")));
  connect(optimizer_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          onEdit(tr("change optimizer")));
  connect(schedule_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          onEdit(tr("change schedule")));
  connect(precision_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          onEdit(tr("change precision")));
  connect(augment_, &QCheckBox::toggled, this, onEdit(tr("toggle augmentation")));
  connect(featureCache_, &QCheckBox::toggled, this, onEdit(tr("toggle feature cache")));
}

void TrainSettingsForm::setConfig(const core::TrainConfig& c) {
  updating_ = true;
  config_ = c;
  strategy_->setCurrentIndex(strategy_->findData(int(c.strategy)));
  epochs_->setValue(c.epochs);
  batch_->setValue(int(c.batchSize));
  inputSize_->setValue(c.imageSize);
  stages_->setValue(c.finetuneStages);
  lr_->setValue(c.lr);
  backboneLr_->setValue(c.backboneLrMultiplier);
  weightDecay_->setValue(c.weightDecay);
  labelSmoothing_->setValue(c.labelSmoothing);
  optimizer_->setCurrentText(QString::fromLatin1(core::optimizerName(c.optimizer)));
  schedule_->setCurrentText(QString::fromLatin1(core::scheduleName(c.schedule)));
  precision_->setCurrentText(QString::fromLatin1(core::kPrecisionNames.name(c.precision)));
  augment_->setChecked(c.augmentation.enabled);
  featureCache_->setChecked(c.featureCache);
  stages_->setEnabled(c.strategy == core::Strategy::FinetuneLast);
  updating_ = false;
}

void TrainSettingsForm::commit(const QString& what) {
  if (updating_) return;
  config_.epochs = epochs_->value();
  config_.batchSize = batch_->value();
  config_.imageSize = inputSize_->value();
  config_.finetuneStages = stages_->value();
  config_.lr = lr_->value();
  config_.backboneLrMultiplier = backboneLr_->value();
  config_.weightDecay = weightDecay_->value();
  config_.labelSmoothing = labelSmoothing_->value();
  config_.optimizer = core::parseOptimizer(optimizer_->currentText().toStdString());
  config_.schedule = core::parseSchedule(schedule_->currentText().toStdString());
  config_.precision =
      core::kPrecisionNames.parse(precision_->currentText().toStdString(), "precision");
  config_.augmentation.enabled = augment_->isChecked();
  config_.featureCache = featureCache_->isChecked();
  emit edited(config_, what);
}

}  // namespace tlab::ui
