#pragma once
// Predicting with a trained model from the GUI: the last run's model or a model bundle opened
// from disk. Every inference runs off the GUI thread (one job at a time, cancellable); results
// come back as signals. Also predicts a whole folder to CSV and exports the model (a verified
// bundle, with model.onnx on request) in the background with progress.
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "core/train/ModelBundle.h"
#include "ui/controllers/ExplainController.h"
#include "ui/workers/Async.h"
#include "ui/workers/ProgressTracker.h"

namespace tlab::core {
class Dataset;
}

namespace tlab::ui {

struct Prediction {
  QString input;  ///< file path or text
  QStringList labels;
  QVector<double> probabilities;  ///< top-k, highest first (calibrated: the model's temperature)
  bool unsure = false;            ///< below the model's threshold, or unlike the training data
  bool unlike = false;  ///< the features lie far from every class the model was trained on
  QString error;
};

/// Why the model predicted what it did for one input (Grad-CAM or occlusion for an image, word
/// attributions for a text).
struct PredictExplanation {
  QString input;
  QImage image;  ///< the image (longer side at most 480 px), without overlay
  SampleMap map;
  SampleWords words;
  QString error;
};

/// One frame (a camera or video picture), already prepared as the model's input [1, C, H, W]
/// (core::imageInput of its pixels with info.preprocess), through an image model; safe from any
/// thread (the forward passes of all predictions are serialised). Errors come back in
/// Prediction::error.
Prediction predictFrame(const core::ImageClassifier& net, const core::ModelBundleInfo& info,
                        const torch::Tensor& input, int topK);

class PredictController : public QObject {
  Q_OBJECT
 public:
  explicit PredictController(QObject* parent = nullptr);
  ~PredictController() override;

  /// Uses a trained network (e.g. the last run's); `info` describes it for export, and samples
  /// of `dataset` (when given) verify exports.
  void setModel(core::ImageClassifier net, const core::ModelBundleInfo& info, const QString& name,
                std::shared_ptr<const core::Dataset> dataset = nullptr);
  bool openBundle(const QString& dir, QString* error);
  bool hasModel() const { return net_ != nullptr; }
  const core::ImageClassifier& network() const { return net_; }
  bool isText() const { return bool(info_.preprocess.tokenizer); }
  QString modelName() const { return name_; }
  const core::ModelBundleInfo& info() const { return info_; }
  /// Predictions whose calibrated top probability is below this are reported as unsure (0:
  /// never); exported bundles keep it as their default.
  void setUnsureBelow(double threshold) { info_.unsureBelow = threshold; }

  void predictFiles(const QStringList& files, int topK = 5);
  void predictText(const QString& text, int topK = 5);
  /// Every image below `folder` -> CSV (path,label,probability,error), with progress.
  void predictFolderToCsv(const QString& folder, const QString& csvPath);
  void cancel();
  bool isBusy() const;  ///< predicting or exporting
  /// Writes a verified bundle into `dir` (with model.onnx when `onnx`) off the GUI thread;
  /// exportProgress while it runs, exported when done. Stop (cancel()) abandons it with nothing
  /// written.
  void exportModel(const QString& dir, bool onnx);
  /// Explains one input (a file path, or a text for text models) for `targetClass` (-1: the
  /// predicted one) off the GUI thread; `explained` when done. A newer request replaces it.
  void explain(const QString& input, int targetClass = -1);
  /// Whether the current model can be written as ONNX (not an imported TorchScript backbone).
  bool canExportOnnx() const;

 signals:
  void predicted(const QVector<tlab::ui::Prediction>& results);
  /// How far a folder prediction is, and its time left ("" while unknown).
  void progress(int done, int total, const QString& eta);
  void folderDone(const QString& csvPath, int rows, const QString& error);
  void modelChanged();
  /// The export's step ("writing model.onnx"), step `done` of `total`, and the time left.
  void exportProgress(const QString& step, int done, int total, const QString& eta);
  /// `report` lists what was verified; `error` is empty on success.
  void exported(const QString& dir, const QString& report, const QString& error);
  void explained(const tlab::ui::PredictExplanation& explanation);

 private:
  core::ImageClassifier net_;
  core::ImageClassifier explainNet_;  ///< a copy that explanations tap (see copyNetwork)
  core::ModelBundleInfo info_;
  std::shared_ptr<const core::Dataset> dataset_;
  QString name_;
  void finished(const QVector<Prediction>& results);

  std::shared_ptr<std::atomic<bool>> cancel_;  ///< the user's Stop: keep what is done so far
  std::shared_ptr<ProgressTracker> progress_;  ///< the folder prediction's, read by the poll timer
  QString pendingCsv_;
  Async<QVector<Prediction>> task_;
  struct ExportOutcome {
    QString report, error;
  };
  /// The export's steps; the estimate spans them all (each step is one of a known count).
  std::shared_ptr<ProgressTracker> exportProgress_;
  Async<ExportOutcome> exportTask_;
  Async<PredictExplanation> explainTask_{this};
};

}  // namespace tlab::ui

Q_DECLARE_METATYPE(tlab::ui::Prediction)
