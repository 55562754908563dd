#pragma once
// Browses a dataset's samples: a thumbnail grid for images (SampleModel decodes only what is on
// screen) or a table for texts, filtered by class, split and a search text; a detail view of
// the current sample (image decoded off the GUI thread); relabel or exclude through the context
// menu, as undoable project edits shown in the grid as "(was ...)" / "(excluded)".
#include <QWidget>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>

#include "core/dataset/Dataset.h"
#include "ui/workers/Async.h"

class QAbstractItemView;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QStackedWidget;
class QTableView;

namespace tlab::ui {
class ProjectController;
class SampleModel;

class SampleBrowser : public QWidget {
  Q_OBJECT
 public:
  SampleBrowser(ProjectController* project, QWidget* parent = nullptr);
  ~SampleBrowser() override;
  void setDataset(std::shared_ptr<const core::Dataset> dataset);
  /// Shows and filters by the split training will use (one entry per sample of the dataset).
  void setTrainingSplits(std::vector<core::Split> splits);
  SampleModel* model() const { return model_; }
  QListView* grid() const { return grid_; }
  QComboBox* classFilter() const { return class_; }
  QComboBox* splitFilter() const { return split_; }
  QLineEdit* search() const { return search_; }
  /// Samples flagged by the data-issues check (core::sampleKey); "Flagged only" shows just these.
  void setFlaggedKeys(const std::set<std::string>& keys);
  QCheckBox* flaggedFilter() const { return flagged_; }
  QString detailText() const;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void setUpViews();
  void buildLayout();
  void applyFilter();
  void showDetail(const QModelIndex& index);
  void contextMenu(QAbstractItemView* view, const QPoint& pos);
  void refreshOverrides();

  ProjectController* project_;
  SampleModel* model_;
  QComboBox *class_, *split_;
  QLineEdit* search_;
  QCheckBox* flagged_;
  std::unordered_set<size_t> flaggedSamples_;
  std::set<std::string> flaggedKeys_;
  QLabel *count_, *detailImage_, *detailText_;
  QStackedWidget* views_;
  QListView* grid_;
  QTableView* table_;
  Async<QImage> detailTask_{this};  // the selected sample at full size
};

}  // namespace tlab::ui
