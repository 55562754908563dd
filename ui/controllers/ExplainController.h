#pragma once
// Explanations in the workbench: Grad-CAM heat maps of dataset samples (the Evaluate gallery,
// the worst mistakes, the sample detail view) and word attributions of texts, for the class the
// user picks (default: the predicted one) at the layer they pick (default: the last conv stage).
// Imported TorchScript networks have no recorded layers: they get an occlusion map instead.
//
// Maps are computed off the GUI thread, one batch job at a time, on the controller's own copy of
// the network (so Predict and Evaluate never share a module mid-forward), and cached per (run,
// sample, class, layer, method). GUI thread only.
#include <QHash>
#include <QImage>
#include <QObject>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <QVector>
#include <memory>
#include <optional>
#include <vector>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/train/ModelBundle.h"
#include "core/train/TrainConfig.h"
#include "ui/workers/Async.h"
#include "ui/workers/ProgressTracker.h"

namespace cv {
class Mat;
}
namespace tlab::core {
class Dataset;
struct ClassMap;
}  // namespace tlab::core
class QTimer;

namespace tlab::ui {

/// One explained image.
struct SampleMap {
  QImage heat;    ///< the map in "jet" colours (ARGB32) at the network's input resolution
  QImage values;  ///< the map itself, 8-bit grey (0..255)
  QRectF region;  ///< what the network saw, as fractions of the image's width and height
  int classIndex = -1, predicted = -1;
  double probability = 0;  ///< of classIndex
  QPoint peak{-1, -1};     ///< in the original image's pixels; (-1, -1): no evidence anywhere
  QString error;
};

/// One explained text.
struct SampleWords {
  QStringList words;
  QVector<double> scores;
  int classIndex = -1, predicted = -1;
  double probability = 0;
  QString error;
};

/// An independent copy of a built-in network (same weights, eval mode), so an explanation can
/// tap it while other jobs use the original; an imported TorchScript network is returned as is
/// (only occlusion, which never taps a network, runs on it).
core::ImageClassifier copyNetwork(const core::ImageClassifier& net,
                                  const core::ModelBundleInfo& info);
/// A core class map of `image` (the original pixels) as drawn by the views.
SampleMap sampleMapOf(const core::ClassMap& map, const cv::Mat& image,
                      const core::Preprocess& preprocess);
/// `image` with `map`'s heat over the region the network saw, at `opacity`; the rest dimmed.
QImage overlayImage(const QImage& image, const SampleMap& map, double opacity);
/// An explained text's words as HTML (see ExplainController::highlightHtml).
QString highlightWordsHtml(const SampleWords& words);

class ExplainController : public QObject {
  Q_OBJECT
 public:
  explicit ExplainController(QObject* parent = nullptr);
  ~ExplainController() override;

  /// The model to explain (a copy is made), how it was trained (for the pre-trained
  /// backbone in the embedding map) and the dataset its samples come from.
  void setModel(core::ImageClassifier net, const core::ModelBundleInfo& info,
                const core::TrainConfig& config, const QString& runId,
                std::shared_ptr<const core::Dataset> dataset);
  bool hasModel() const { return net_ != nullptr; }
  bool isText() const { return bool(info_.preprocess.tokenizer); }
  const core::ModelBundleInfo& info() const { return info_; }
  const core::TrainConfig& config() const { return config_; }
  QString runId() const { return runId_; }
  std::shared_ptr<const core::Dataset> dataset() const { return dataset_; }
  /// A fresh copy of the network for another background job (the controller's own copy is
  /// tapped by the explanations it computes).
  core::ImageClassifier networkCopy() const;

  /// Layers Grad-CAM can explain (empty: occlusion is used), and the chosen one.
  QStringList layers() const { return layers_; }
  QString layer() const { return layer_; }
  void setLayer(const QString& layer);
  /// -1: each sample's predicted class.
  int targetClass() const { return targetClass_; }
  void setTargetClass(int classIndex);
  bool overlaysOn() const { return overlaysOn_; }
  void setOverlaysOn(bool on);
  double opacity() const { return opacity_; }
  void setOpacity(double opacity);
  QString methodName() const;

  /// The cached explanation of `sample` for the current class and layer, or nullptr.
  const SampleMap* map(size_t sample) const;
  const SampleWords* words(size_t sample) const;
  /// Computes (in the background) what is not cached yet; mapsReady when done.
  void request(const std::vector<size_t>& samples);
  bool isBusy() const { return task_.isRunning(); }
  void cancel();

  /// `image` (a thumbnail or the full sample, any size) with `map`'s heat painted over the
  /// region the network saw, at the current opacity.
  QImage overlay(const QImage& image, const SampleMap& map) const {
    return overlayImage(image, map, opacity_);
  }
  /// Words as HTML, each on a background whose strength is its attribution (green: for the
  /// class, red: against it).
  static QString highlightHtml(const SampleWords& words) { return highlightWordsHtml(words); }

 signals:
  void modelChanged();
  /// Class, layer, opacity or on/off changed: views redraw (and request what they miss).
  void settingsChanged();
  void mapsReady();
  /// Samples explained of `total` in the running job, and its time left ("" while unknown).
  void progress(int done, int total, const QString& eta);

 private:
  struct Batch {
    QVector<QPair<QString, SampleMap>> maps;
    QVector<QPair<QString, SampleWords>> words;
    QString error;
  };
  QString key(size_t sample) const;

  core::ImageClassifier net_;
  core::ModelBundleInfo info_;
  core::TrainConfig config_;
  QString runId_;
  std::shared_ptr<const core::Dataset> dataset_;
  QStringList layers_;
  QString layer_;
  int targetClass_ = -1;
  bool overlaysOn_ = false;
  double opacity_ = 0.5;
  QHash<QString, SampleMap> maps_;
  QHash<QString, SampleWords> words_;
  std::vector<size_t> pending_;                ///< asked for while a job ran
  QTimer* poll_;                               ///< reports the job's progress from progress_
  std::shared_ptr<ProgressTracker> progress_;  ///< the running job's, written by its worker
  Async<Batch> task_{this};
};

}  // namespace tlab::ui
