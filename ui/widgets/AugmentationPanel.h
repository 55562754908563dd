#pragma once
// The Data page's augmentation settings: crop scale and aspect ratio, flip, rotation and colour
// jitter, bound to the project's TrainConfig as undoable edits, beside a live preview grid of
// training samples as the model will see them (left column without augmentation, then one
// column per epoch). Rendering runs in AugmentationPreview, off the GUI thread.
#include <QWidget>
#include <memory>

#include "ui/widgets/AugmentationPreview.h"

class QCheckBox;
class QDoubleSpinBox;
class QGridLayout;
class QGroupBox;
class QLabel;
class QPushButton;

namespace tlab::core {
class BackboneCatalog;
}

namespace tlab::ui {
class DatasetController;
class ProjectController;

class AugmentationPanel : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kRows = 4, kEpochColumns = 5;

  AugmentationPanel(ProjectController* project, DatasetController* datasets,
                    QWidget* parent = nullptr);

  AugmentationPreview* preview() const { return preview_; }
  QCheckBox* enabledBox() const { return enabled_; }
  QDoubleSpinBox* rotationBox() const { return rotation_; }
  QPushButton* redrawButton() const { return redraw_; }
  /// The grid on screen (empty until the first render arrives).
  const PreviewGrid& shownGrid() const { return shown_; }
  QString statusText() const;
  /// What training will do with the settings (resolved crop area; cached-feature phases).
  QString inEffectText() const;

 private:
  QGroupBox* buildSettings();
  void connectControls(DatasetController* datasets);
  void showConfig();
  void commit(const QString& what);
  void requestPreview();
  void showGrid(const PreviewGrid& grid);
  void clearGrid();

  ProjectController* project_;
  std::shared_ptr<const core::BackboneCatalog> catalog_;  // null when it could not be read
  AugmentationPreview* preview_;
  std::shared_ptr<const core::Dataset> dataset_;
  PreviewGrid shown_;
  uint64_t firstEpoch_ = 0;  // "New draw" shows later epochs
  bool updating_ = false;
  QCheckBox* enabled_;
  QDoubleSpinBox *minScale_, *maxScale_, *minRatio_, *maxRatio_, *hflip_, *rotation_;
  QDoubleSpinBox *brightness_, *contrast_, *saturation_;
  QPushButton *reset_, *redraw_;
  QLabel *effective_, *status_;
  QGridLayout* grid_;
};

}  // namespace tlab::ui
