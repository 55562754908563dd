#include "ui/models/LayerTreeModel.h"

#include <QBrush>
#include <QLocale>
#include <cmath>

namespace tlab::ui {
namespace {

QString shapeText(const std::vector<int64_t>& s) {
  if (s.empty()) return {};
  QStringList parts;
  for (int64_t d : s) parts << QString::number(d);
  return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

Qt::CheckState checkState(core::FreezeState s) {
  switch (s) {
    case core::FreezeState::Frozen:
      return Qt::Checked;
    case core::FreezeState::Partial:
      return Qt::PartiallyChecked;
    case core::FreezeState::Trainable:
      break;
  }
  return Qt::Unchecked;
}

}  // namespace

LayerTreeModel::LayerTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void LayerTreeModel::indexNodes(const core::LayerNode& n, const core::LayerNode* parent, int row) {
  places_[&n] = {parent, row};
  for (size_t i = 0; i < n.children.size(); ++i) indexNodes(n.children[i], &n, int(i));
}

void LayerTreeModel::setTree(core::LayerNode root) {
  beginResetModel();
  root_ = std::move(root);
  places_.clear();
  indexNodes(root_, nullptr, 0);
  endResetModel();
}

bool LayerTreeModel::sameShape(const core::LayerNode& a, const core::LayerNode& b) {
  if (a.path != b.path || a.children.size() != b.children.size()) return false;
  for (size_t i = 0; i < a.children.size(); ++i)
    if (!sameShape(a.children[i], b.children[i])) return false;
  return true;
}

void LayerTreeModel::copyAnnotations(core::LayerNode& into, const core::LayerNode& from) {
  into.trainableParams = from.trainableParams;
  into.bnStatsFrozen = from.bnStatsFrozen;
  into.lrMultiplier = from.lrMultiplier;
  into.outputShape = from.outputShape;
  for (size_t i = 0; i < into.children.size(); ++i)
    copyAnnotations(into.children[i], from.children[i]);
}

void LayerTreeModel::update(core::LayerNode root) {
  if (!sameShape(root_, root)) {
    setTree(std::move(root));
    return;
  }
  copyAnnotations(root_, root);
  // Every row of every level may have changed: one dataChanged per parent.
  std::vector<QModelIndex> parents{QModelIndex()};
  while (!parents.empty()) {
    const QModelIndex p = parents.back();
    parents.pop_back();
    const int rows = rowCount(p);
    if (rows == 0) continue;
    emit dataChanged(index(0, 0, p), index(rows - 1, kColumns - 1, p));
    for (int r = 0; r < rows; ++r) parents.push_back(index(r, 0, p));
  }
}

const core::LayerNode* LayerTreeModel::node(const QModelIndex& i) const {
  return i.isValid() ? static_cast<const core::LayerNode*>(i.internalPointer()) : &root_;
}

QModelIndex LayerTreeModel::indexOf(const QString& path) const {
  const core::LayerNode* n = root_.find(path.toStdString());
  if (!n || n == &root_) return {};
  return createIndex(places_.at(n).row, 0, const_cast<core::LayerNode*>(n));
}

QModelIndex LayerTreeModel::index(int row, int column, const QModelIndex& parent) const {
  const core::LayerNode* p = node(parent);
  if (row < 0 || column < 0 || column >= kColumns || row >= int(p->children.size())) return {};
  return createIndex(row, column, const_cast<core::LayerNode*>(&p->children[size_t(row)]));
}

QModelIndex LayerTreeModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  const auto it = places_.find(node(child));
  if (it == places_.end() || it->second.parent == &root_ || !it->second.parent) return {};
  const core::LayerNode* p = it->second.parent;
  return createIndex(places_.at(p).row, 0, const_cast<core::LayerNode*>(p));
}

int LayerTreeModel::rowCount(const QModelIndex& parent) const {
  if (parent.column() > 0) return 0;
  return int(node(parent)->children.size());
}

int LayerTreeModel::columnCount(const QModelIndex&) const { return kColumns; }

QVariant LayerTreeModel::data(const QModelIndex& i, int role) const {
  if (!i.isValid()) return {};
  const core::LayerNode& n = *node(i);
  const QLocale locale;
  if (role == Qt::CheckStateRole && i.column() == kName && n.params > 0)
    return checkState(n.freezeState());
  if (role == Qt::ForegroundRole && n.freezeState() == core::FreezeState::Frozen)
    return QBrush(Qt::gray);
  if (role == Qt::ToolTipRole && i.column() == kName)
    return tr("%1\nchecked: frozen (no gradient, no optimizer state)")
        .arg(QString::fromStdString(n.path));
  if (role == Qt::TextAlignmentRole &&
      (i.column() == kParams || i.column() == kTrainable || i.column() == kLr))
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole && role != Qt::EditRole) return {};
  switch (i.column()) {
    case kName:
      return QString::fromStdString(n.name);
    case kType:
      return QString::fromStdString(n.type);
    case kShape:
      return shapeText(n.outputShape);
    case kParams:
      return locale.toString(qlonglong(n.params));
    case kTrainable:
      return n.params ? locale.toString(qlonglong(n.trainableParams)) : QString();
    case kBatchNorm:
      if (!n.isBatchNorm) return {};
      return n.bnStatsFrozen ? tr("stats frozen") : tr("stats update");
    case kLr:
      return n.params ? QVariant(n.lrMultiplier) : QVariant();
    default:
      return {};
  }
}

bool LayerTreeModel::setData(const QModelIndex& i, const QVariant& value, int role) {
  if (!i.isValid()) return false;
  const core::LayerNode& n = *node(i);
  if (role == Qt::CheckStateRole && i.column() == kName) {
    emit freezeToggled(QString::fromStdString(n.path),
                       Qt::CheckState(value.toInt()) != Qt::Unchecked);
    return true;
  }
  if (role == Qt::EditRole && i.column() == kLr) {
    bool ok = false;
    const double m = value.toDouble(&ok);
    if (!ok || m < 0) return false;
    emit lrMultiplierEdited(QString::fromStdString(n.path), m);
    return true;
  }
  return false;
}

Qt::ItemFlags LayerTreeModel::flags(const QModelIndex& i) const {
  if (!i.isValid()) return Qt::NoItemFlags;
  Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
  const core::LayerNode& n = *node(i);
  if (i.column() == kName && n.params > 0) f |= Qt::ItemIsUserCheckable;
  if (i.column() == kLr && n.params > 0) f |= Qt::ItemIsEditable;
  return f;
}

QVariant LayerTreeModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Module (\u2611 frozen)",
                                "Type",
                                "Output shape",
                                "Parameters",
                                "Trainable",
                                "BatchNorm",
                                "LR \u00d7"};
  return tr(names[section]);
}

}  // namespace tlab::ui
