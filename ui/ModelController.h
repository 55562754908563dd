#pragma once
// Keeps the Model page's layer tree in step with the project: builds the chosen backbone's
// network (architecture only; weights do not change the structure) and traces its shapes off
// the GUI thread, then re-annotates the tree (frozen, BatchNorm, learning-rate multipliers) from
// the project's config on every edit, cheaply on the GUI thread. Freeze checkboxes and
// multiplier edits in the tree become undoable project edits.
#include <QObject>
#include <QString>
#include <memory>
#include "ui/TorchQt.h"  // first: before any Qt header

#include "core/model/ImageClassifier.h"
#include "core/model/LayerTree.h"

template <typename T>
class QFutureWatcher;

namespace tlab::ui {
class LayerTreeModel;
class ProjectController;

struct BuiltNetwork {
  QString backbone;
  core::ImageClassifier net;
  core::LayerNode tree;
  QString error;
};

class ModelController : public QObject {
  Q_OBJECT
 public:
  explicit ModelController(ProjectController* project, QObject* parent = nullptr);
  ~ModelController() override;

  LayerTreeModel* model() const { return model_; }
  bool isBuilding() const;
  QString backbone() const { return built_; }
  /// Stage names and the 1-based epoch each starts training (0: never) under the config.
  std::vector<std::pair<QString, int>> unfreezeTimeline() const;
  core::ImageClassifier network() const { return net_; }

  // Quick actions (undoable project edits).
  void freezeBackbone();
  void unfreezeLastStages(int n);

 signals:
  void built(const QString& backbone);
  void failed(const QString& message);
  /// Trainable and total parameters under the current config.
  void totalsChanged(qint64 trainable, qint64 total);

 private:
  void rebuildIfNeeded();
  void annotate();
  void onBuilt();

  ProjectController* project_;
  LayerTreeModel* model_;
  QFutureWatcher<BuiltNetwork>* watcher_;
  QString built_, building_;
  core::ImageClassifier net_;
  core::LayerNode tree_;
};

}  // namespace tlab::ui
