#pragma once
// The Model page: backbone picker (catalog cards: parameters, input size, licence, source,
// cached or not; download with progress; import a TorchScript file), the layer tree with freeze
// checkboxes, BatchNorm and learning-rate columns, live trainable/frozen totals, quick actions,
// the gradual-unfreezing timeline and the head configuration. Edits go to the project.
#include <QWidget>
#include <atomic>
#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeView;

namespace tlab::ui {
class ModelController;
class ProjectController;

class ModelPage : public QWidget {
  Q_OBJECT
 public:
  ModelPage(ProjectController* project, ModelController* model, QWidget* parent = nullptr);
  QTreeView* treeView() const { return tree_; }
  QListWidget* backboneList() const { return backbones_; }
  QString totalsText() const;

 signals:
  /// "Explain at this layer" from the layer tree's context menu (a module path).
  void explainLayerRequested(const QString& path);

 private:
  void fillCatalog();
  void showConfig();
  void showTimeline();
  void setUpControls();
  void buildLayout();
  void connectControls();
  void connectEdits();
  void importTorchScript();

  ProjectController* project_;
  ModelController* model_;
  QListWidget* backbones_;
  QPushButton *download_, *import_;
  QProgressBar* downloadProgress_;
  QTreeView* tree_;
  QLabel *totals_, *timeline_, *message_;
  QSpinBox *lastStages_, *gradual_, *headHidden_;
  QComboBox *bnPolicy_, *headKind_;
  QDoubleSpinBox* dropout_;
  bool updating_ = false;
};

}  // namespace tlab::ui
