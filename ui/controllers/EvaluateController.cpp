#include "ui/controllers/EvaluateController.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <algorithm>

#include "core/project/Project.h"
#include "core/util/FileUtil.h"
#include "core/util/VerifiedWrite.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {

EvaluateController::EvaluateController(ProjectController* project, QObject* parent)
    : QObject(parent), project_(project) {}

void EvaluateController::setEvaluation(const core::EvaluationResult& result,
                                       std::shared_ptr<const core::Dataset> dataset,
                                       const QString& title, double temperature) {
  result_ = result;
  temperature_ = temperature;
  dataset_ = std::move(dataset);
  title_ = title;
  gallery_.clear();
  galleryTitle_.clear();
  emit evaluationChanged();
  emit galleryChanged();
}

GalleryItem EvaluateController::item(const core::PredictionRow& r) const {
  GalleryItem g;
  g.sample = r.sample;
  g.trueClass = r.label;
  g.predictedClass = r.predicted;
  g.trueLabel = QString::fromStdString(result_.classNames.at(size_t(r.label)));
  g.predictedLabel = QString::fromStdString(result_.classNames.at(size_t(r.predicted)));
  g.confidence = r.probability;
  g.loss = r.loss;
  if (dataset_ && dataset_->modality == core::Modality::Text)
    g.text = QString::fromStdString(dataset_->samples.at(r.sample).text);
  return g;
}

void EvaluateController::selectCell(int trueClass, int predictedClass) {
  std::vector<const core::PredictionRow*> rows;
  for (const auto& r : result_.predictions)
    if (r.label == trueClass && r.predicted == predictedClass) rows.push_back(&r);
  std::stable_sort(rows.begin(), rows.end(),
                   [](auto* a, auto* b) { return a->probability > b->probability; });
  gallery_.clear();
  for (const auto* r : rows) gallery_.push_back(item(*r));
  const auto name = [&](int c) { return QString::fromStdString(result_.classNames.at(size_t(c))); };
  galleryTitle_ =
      tr("%1 %2 predicted as %3").arg(gallery_.size()).arg(name(trueClass), name(predictedClass));
  emit galleryChanged();
}

void EvaluateController::showMistakes(int limit) {
  std::vector<const core::PredictionRow*> rows;
  for (const auto& r : result_.predictions)
    if (r.label != r.predicted) rows.push_back(&r);
  std::stable_sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->loss > b->loss; });
  if (int(rows.size()) > limit) rows.resize(size_t(limit));
  gallery_.clear();
  for (const auto* r : rows) gallery_.push_back(item(*r));
  galleryTitle_ = tr("The %1 most confident mistakes").arg(gallery_.size());
  emit galleryChanged();
}

void EvaluateController::showItems(const QVector<GalleryItem>& items, const QString& title) {
  gallery_ = items;
  galleryTitle_ = title;
  emit galleryChanged();
}

void EvaluateController::relabel(size_t sample, const QString& className) {
  if (!dataset_) return;
  project_->setLabel(core::sampleKey(*dataset_, sample), className.toStdString());
}

bool EvaluateController::exportPredictions(const QString& path, QString* error) const {
  if (!dataset_) {
    if (error) *error = tr("Nothing evaluated yet.");
    return false;
  }
  try {
    core::writeFileVerified(path.toStdString(), core::predictionsCsv(result_, *dataset_));
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
}

}  // namespace tlab::ui
