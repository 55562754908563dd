#pragma once
// The Data page's "Data issues" tab: which backbone's features to use and how many folds, a
// "Find issues" button with progress (stage, how far, time left) and Cancel, then the ranked
// findings (likely label errors, near-duplicates across splits, outliers) with thumbnails or
// texts, given and suggested label, score and review state. Review is keyboard-driven:
// A accepts the suggested label, X excludes the sample, K keeps it as labelled (each undoable
// with Edit -> Undo), and the selection moves on to the next open finding. "Retrain with fixes"
// asks for a run with the edits made (retrainRequested).
#include <QWidget>
#include <memory>

#include "core/dataset/Dataset.h"
#include "ui/workers/Async.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace tlab::ui {
class DataIssuesController;
class ProjectController;

class DataIssuesView : public QWidget {
  Q_OBJECT
 public:
  DataIssuesView(DataIssuesController* controller, ProjectController* project,
                 QWidget* parent = nullptr);
  /// The dataset the check runs on (as opened; the project's edits are applied to it).
  void setDataset(std::shared_ptr<const core::Dataset> dataset);

  QTableWidget* table() const { return table_; }
  QComboBox* backboneBox() const { return backbone_; }
  QPushButton* findButton() const { return find_; }
  QPushButton* retrainButton() const { return retrain_; }
  QString summaryText() const;
  /// Starts the check (as the button does).
  void findIssues();

 signals:
  void retrainRequested();

 protected:
  /// A, X and K on the table review the current finding (before the table's type-to-search).
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void showRows();
  void refreshReview();
  void loadThumbnails();
  void act(char action);
  void selectNextOpen(int from);

  DataIssuesController* controller_;
  ProjectController* project_;
  std::shared_ptr<const core::Dataset> dataset_;
  QComboBox* backbone_;
  QSpinBox* folds_;
  QPushButton *find_, *cancel_, *accept_, *exclude_, *keep_, *retrain_;
  QProgressBar* progress_;
  QLabel *summary_, *hint_;
  QTableWidget* table_;
  Async<QVector<QImage>> thumbnails_{this};
};

}  // namespace tlab::ui
