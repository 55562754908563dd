#pragma once
// The Evaluate page: confusion-matrix heatmap (QCPColorMap; counts or row-normalised) whose
// cells open the gallery of exactly those samples; per-class precision/recall/F1; the most
// confident mistakes; relabel from the gallery (context menu); export predictions as CSV.
// Thumbnails are decoded off the GUI thread. With a model to explain (ExplainController), the
// gallery and the sample detail view show Grad-CAM heat maps (or word attributions for texts)
// for the class and layer picked above the gallery, and the "Embedding map" tab shows the
// features of a split before and after fine-tuning.
#include <QWidget>
#include <atomic>
#include "ui/workers/Async.h"

class QCheckBox;
class QComboBox;
class QSlider;
class QTabWidget;
class QCustomPlot;
class QCPColorMap;
class QLabel;
class QPushButton;
class QListWidget;
class QTableWidget;

namespace tlab::ui {
class EvaluateController;
class ExplainController;
class EmbeddingMapView;
class CalibrationView;

class EvaluatePage : public QWidget {
  Q_OBJECT
 public:
  /// `explain` may be null (no explanations: the explain bar and the map tab are hidden).
  explicit EvaluatePage(EvaluateController* controller, ExplainController* explain = nullptr,
                        QWidget* parent = nullptr);
  ~EvaluatePage() override;

  QCustomPlot* matrixPlot() const { return plot_; }
  QListWidget* galleryView() const { return gallery_; }
  QTableWidget* classTable() const { return classes_; }
  QCheckBox* overlayToggle() const { return explainOn_; }
  QSlider* opacitySlider() const { return opacity_; }
  QComboBox* explainClassBox() const { return explainClass_; }
  QComboBox* explainLayerBox() const { return explainLayer_; }
  QLabel* detailImage() const { return detailImage_; }
  QLabel* detailText() const { return detailText_; }
  EmbeddingMapView* embeddingMap() const { return map2d_; }
  QTabWidget* lowerTabs() const { return tabs_; }
  CalibrationView* calibrationView() const { return calibration_; }
  /// The gallery's current icon of row `row` (for tests: with or without its heat map).
  QImage galleryIcon(int row) const;
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
  void explainModelChanged();
  void refreshIcons();
  void showDetail();

  EvaluateController* controller_;
  QLabel* title_;
  QCheckBox* normalised_;
  QCustomPlot* plot_;
  QCPColorMap* map_;
  QTableWidget* classes_;
  QLabel* galleryTitle_;
  QListWidget* gallery_;
  QPushButton *mistakes_, *exportCsv_;
  ExplainController* explain_;
  QCheckBox* explainOn_;
  QSlider* opacity_;
  QComboBox *explainClass_, *explainLayer_;
  QLabel *explainStatus_, *detailImage_, *detailText_;
  QTabWidget* tabs_;
  EmbeddingMapView* map2d_ = nullptr;
  CalibrationView* calibration_;
  QVector<QImage> thumbs_;  // plain thumbnails of the gallery shown now
  QImage detailPlain_;      // the detail view's sample, without overlay
  size_t detailSample_ = size_t(-1);
  Async<QVector<QImage>> galleryTask_{this};  // thumbnails of the gallery shown now
  Async<QImage> detailTask_{this};
};

}  // namespace tlab::ui
