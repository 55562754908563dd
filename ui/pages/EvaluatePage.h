#pragma once
// The Evaluate page: confusion-matrix heatmap (QCPColorMap; counts or row-normalised) whose
// cells open the gallery of exactly those samples; per-class precision/recall/F1; the most
// confident mistakes; relabel from the gallery (context menu); export predictions as CSV.
// Thumbnails are decoded off the GUI thread.
#include <QWidget>
#include <atomic>
#include "ui/workers/Async.h"

class QCheckBox;
class QCustomPlot;
class QCPColorMap;
class QLabel;
class QPushButton;
class QListWidget;
class QTableWidget;

namespace tlab::ui {
class EvaluateController;

class EvaluatePage : public QWidget {
  Q_OBJECT
 public:
  explicit EvaluatePage(EvaluateController* controller, QWidget* parent = nullptr);
  ~EvaluatePage() override;

  QCustomPlot* matrixPlot() const { return plot_; }
  QListWidget* galleryView() const { return gallery_; }
  QTableWidget* classTable() const { return classes_; }
  /// Centre of a confusion-matrix cell in plot pixels (for tests and tooltips).
  QPoint cellCentre(int trueClass, int predictedClass) const;

 private:
  void showEvaluation();
  void showMatrix();
  void showGallery();
  void setUpWidgets();
  void buildLayout();
  void onPlotClick(QMouseEvent* event);
  void galleryMenu(const QPoint& pos);

  EvaluateController* controller_;
  QLabel* title_;
  QCheckBox* normalised_;
  QCustomPlot* plot_;
  QCPColorMap* map_;
  QTableWidget* classes_;
  QLabel* galleryTitle_;
  QListWidget* gallery_;
  QPushButton *mistakes_, *exportCsv_;
  Async<QVector<QImage>> galleryTask_{this};  // thumbnails of the gallery shown now
};

}  // namespace tlab::ui
