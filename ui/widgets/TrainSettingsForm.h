#pragma once
// The hyper-parameter form of the Train page, bound to a core::TrainConfig. Choosing a strategy
// fills in its usual defaults (core::withStrategyDefaults, the same as the CLI's); every field
// explains itself in a tooltip.
// Emits edited() with the whole new config and a short description for the undo history.
#include <QWidget>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/train/TrainConfig.h"

class QComboBox;
class QSpinBox;
class QDoubleSpinBox;
class QCheckBox;

namespace tlab::ui {

class TrainSettingsForm : public QWidget {
  Q_OBJECT
 public:
  explicit TrainSettingsForm(QWidget* parent = nullptr);
  /// Shows `config` without emitting edited().
  void setConfig(const core::TrainConfig& config);
  const core::TrainConfig& config() const { return config_; }

 signals:
  void edited(const tlab::core::TrainConfig& config, const QString& what);

 private:
  void fillChoices();
  void setToolTips();
  void buildLayout();
  void connectEdits();
  void commit(const QString& what);

  core::TrainConfig config_;
  bool updating_ = false;
  QComboBox *strategy_, *optimizer_, *schedule_, *precision_;
  QSpinBox *epochs_, *batch_, *inputSize_, *stages_;
  QDoubleSpinBox *lr_, *backboneLr_, *weightDecay_, *labelSmoothing_;
  QCheckBox *augment_, *featureCache_;
};

}  // namespace tlab::ui
