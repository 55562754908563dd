#pragma once
// Renders the augmentation preview grid off the GUI thread: a few training samples, each as the
// model sees it without augmentation and then in several epochs with it. Every augmented cell is
// exactly what the data loader feeds the model for that sample in that epoch (same pipeline,
// same per-sample seed), so the preview is a view of training, not an imitation of it.
//
// Requests are coalesced on a short timer (dragging a spin box queues no backlog) and a newer
// request supersedes the one in flight, whose result is dropped. GUI thread only; the
// destructor cancels and waits for the worker.
#include <QImage>
#include <QObject>
#include <QString>
#include <QTimer>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/data/Transforms.h"
#include "core/dataset/Dataset.h"
#include "ui/workers/Async.h"

namespace tlab::ui {

struct PreviewRequest {
  std::shared_ptr<const core::Dataset> dataset;
  std::vector<size_t> samples;  ///< rows
  core::Preprocess preprocess;
  core::Augmentation augmentation;  ///< as the trainer resolves it (effectiveAugmentation)
  uint64_t seed = 42;               ///< the run seed
  std::vector<uint64_t> epochs;     ///< columns after the un-augmented one (0-based epochs)
};

struct PreviewGrid {
  std::shared_ptr<const core::Dataset> dataset;  ///< the one `samples` index into
  std::vector<size_t> samples;
  std::vector<uint64_t> epochs;
  /// Row-major, samples.size() x (1 + epochs.size()): 8-bit inputSize x inputSize images with
  /// the backbone's channels (RGB order); a null image where the sample could not be decoded.
  std::vector<QImage> cells;
  QStringList errors;  ///< one line per sample that failed, naming its file
  QImage cell(size_t row, size_t column) const { return cells[row * (1 + epochs.size()) + column]; }
};

/// The grid for `request`, computed on the calling thread; checks `cancel` between samples.
PreviewGrid renderPreview(const PreviewRequest& request, const std::atomic<bool>* cancel = nullptr);

/// Up to `count` training samples to preview, visiting the classes in turn so every class
/// shows up when there are enough rows (dataset order within a class: the choice is stable).
std::vector<size_t> previewSamples(const core::Dataset& dataset, size_t count);

class AugmentationPreview : public QObject {
  Q_OBJECT
 public:
  explicit AugmentationPreview(QObject* parent = nullptr);
  ~AugmentationPreview() override;

  /// Renders `request` after a 120 ms pause in requests.
  void request(PreviewRequest request);
  bool isBusy() const;

 signals:
  void ready(const tlab::ui::PreviewGrid& grid);

 private:
  void launch();

  QTimer debounce_;
  PreviewRequest pending_;
  Async<PreviewGrid> task_{this};
};

}  // namespace tlab::ui
