#pragma once
// Keeps the Model page's layer tree in step with the project: builds the chosen backbone's
// network (architecture only; weights do not change the structure) and traces its shapes off
// the GUI thread, then re-annotates the tree (frozen, BatchNorm, learning-rate multipliers) from
// the project's config on every edit, cheaply on the GUI thread. Freeze checkboxes and
// multiplier edits in the tree become undoable project edits.
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>
#include <optional>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/model/ImageClassifier.h"
#include "core/model/LayerTree.h"
#include "ui/workers/Async.h"

namespace tlab::ui {
class LayerTreeModel;
class ProjectController;

/// What the layer tree shows: a backbone with the head training will attach.
struct NetworkKey {
  QString backbone;
  int numClasses = 0;  ///< 0: no dataset yet (the backbone's own head)
  core::HeadSpec head;
  bool operator==(const NetworkKey& o) const {
    return backbone == o.backbone && numClasses == o.numClasses && head.kind == o.head.kind &&
           head.hidden == o.head.hidden && head.numClasses == o.head.numClasses;
  }
};

struct BuiltNetwork {
  NetworkKey key;
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

  /// The dataset's class count: the tree then shows the head training attaches (0: unknown).
  void setNumClasses(int numClasses);

  /// Downloads the catalog weights of `backbone` (progress and the outcome come as signals).
  void downloadWeights(const QString& backbone);
  void cancelDownload();
  bool isDownloading() const;

  // Quick actions (undoable project edits).
  void freezeBackbone();
  void unfreezeLastStages(int n);

 signals:
  void built(const QString& backbone);
  void failed(const QString& message);
  /// Trainable and total parameters under the current config.
  void totalsChanged(qint64 trainable, qint64 total);
  void downloadProgress(qint64 done, qint64 total);  ///< total -1: unknown
  /// Empty `error`: the weights are in the cache now.
  void downloadFinished(const QString& error);

 private:
  void rebuildIfNeeded();
  void annotate();
  void onBuilt(BuiltNetwork b);
  NetworkKey wantedKey() const;

  ProjectController* project_;
  LayerTreeModel* model_;
  Async<BuiltNetwork> build_;
  QString built_;
  std::optional<NetworkKey> builtKey_, building_;
  int numClasses_ = 0;
  struct DownloadJob;
  std::shared_ptr<DownloadJob> downloadJob_;
  QTimer downloadPoll_;
  Async<QString> download_{this};
  core::ImageClassifier net_;
  core::LayerNode tree_;
};

}  // namespace tlab::ui
