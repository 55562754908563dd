#pragma once
// The evaluation being inspected (a run's test split, else its validation split) and what the
// gallery shows: the samples of one confusion-matrix cell, or the most confident mistakes
// (highest loss first). Relabelling from the gallery becomes an undoable project edit.
// GUI thread only; thumbnails are decoded by the gallery widget off the GUI thread.
#include <QObject>
#include <QString>
#include <QVector>
#include <memory>

#include "core/dataset/Dataset.h"
#include "core/train/Metrics.h"

namespace tlab::ui {
class ProjectController;

struct GalleryItem {
  size_t sample = 0;
  int trueClass = 0, predictedClass = 0;
  QString trueLabel, predictedLabel;
  double confidence = 0;  ///< probability of the predicted class
  double loss = 0;
  QString text;  ///< text datasets: the sample's text
};

class EvaluateController : public QObject {
  Q_OBJECT
 public:
  explicit EvaluateController(ProjectController* project, QObject* parent = nullptr);

  /// `temperature`: the run's calibration (probabilities are softmax(logits / temperature)).
  void setEvaluation(const core::EvaluationResult& result,
                     std::shared_ptr<const core::Dataset> dataset, const QString& title,
                     double temperature = 1.0);
  double temperature() const { return temperature_; }
  bool hasEvaluation() const { return dataset_ != nullptr; }
  const core::EvaluationResult& evaluation() const { return result_; }
  std::shared_ptr<const core::Dataset> dataset() const { return dataset_; }
  QString title() const { return title_; }

  /// Gallery := samples with this true and predicted class, most confident first.
  void selectCell(int trueClass, int predictedClass);
  /// Gallery := misclassified samples, highest loss first (at most `limit`).
  void showMistakes(int limit = 100);
  /// Gallery := these samples (e.g. a lasso selection on the embedding map).
  void showItems(const QVector<GalleryItem>& items, const QString& title);
  const QVector<GalleryItem>& gallery() const { return gallery_; }
  QString galleryTitle() const { return galleryTitle_; }

  void relabel(size_t sample, const QString& className);
  bool exportPredictions(const QString& path, QString* error) const;

 signals:
  void evaluationChanged();
  void galleryChanged();

 private:
  GalleryItem item(const core::PredictionRow& row) const;

  ProjectController* project_;
  core::EvaluationResult result_;
  std::shared_ptr<const core::Dataset> dataset_;
  QString title_, galleryTitle_;
  double temperature_ = 1.0;
  QVector<GalleryItem> gallery_;
};

}  // namespace tlab::ui
