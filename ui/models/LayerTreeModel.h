#pragma once
// Qt item model over a core::LayerNode tree: name (with a tri-state "frozen" checkbox), type,
// output shape, parameters, trainable parameters, BatchNorm statistics and learning-rate
// multiplier (editable). Checking a box or editing a multiplier does not change the tree: it
// emits freezeToggled()/lrMultiplierEdited(); the owner turns that into a project edit and
// calls update() with the re-annotated tree. GUI thread only.
#include <QAbstractItemModel>
#include <unordered_map>

#include "core/model/LayerTree.h"

namespace tlab::ui {

class LayerTreeModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { kName, kType, kShape, kParams, kTrainable, kBatchNorm, kLr, kColumns };
  explicit LayerTreeModel(QObject* parent = nullptr);

  /// A new tree (new backbone): resets the model.
  void setTree(core::LayerNode root);
  /// Same structure, new annotations (freeze state, multipliers): updates in place, so the
  /// view keeps its expansion and selection. Falls back to setTree() when the shape differs.
  void update(core::LayerNode root);
  const core::LayerNode& root() const { return root_; }
  const core::LayerNode* node(const QModelIndex& index) const;
  QModelIndex indexOf(const QString& path) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 signals:
  void freezeToggled(const QString& path, bool frozen);
  void lrMultiplierEdited(const QString& path, double multiplier);

 private:
  void indexNodes(const core::LayerNode& n, const core::LayerNode* parent, int row);
  static bool sameShape(const core::LayerNode& a, const core::LayerNode& b);
  static void copyAnnotations(core::LayerNode& into, const core::LayerNode& from);

  core::LayerNode root_;
  struct Place {
    const core::LayerNode* parent;
    int row;
  };
  std::unordered_map<const core::LayerNode*, Place> places_;
};

}  // namespace tlab::ui
