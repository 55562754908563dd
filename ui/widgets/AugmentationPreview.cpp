#include "ui/widgets/AugmentationPreview.h"
#include "ui/workers/Async.h"
#include "ui/workers/Thumbnail.h"

#include <algorithm>

namespace tlab::ui {

PreviewGrid renderPreview(const PreviewRequest& r, const std::atomic<bool>* cancel) {
  PreviewGrid g;
  g.dataset = r.dataset;
  g.samples = r.samples;
  g.epochs = r.epochs;
  g.cells.resize(r.samples.size() * (1 + r.epochs.size()));
  if (!r.dataset || r.dataset->modality != core::Modality::Image) return g;
  core::Augmentation off = r.augmentation;
  off.enabled = false;
  for (size_t row = 0; row < r.samples.size(); ++row) {
    if (cancel && cancel->load()) break;
    const size_t sample = r.samples[row];
    const core::DecodedImage img = r.dataset->loadImage(sample);
    if (!img.ok()) {
      g.errors << QStringLiteral("%1: %2").arg(
          QString::fromStdString(r.dataset->samples[sample].path),
          QString::fromStdString(img.error));
      continue;
    }
    try {
      core::Rng unused(0);  // the evaluation view draws no random numbers
      QImage* out = &g.cells[row * (1 + r.epochs.size())];
      out[0] = toQImage(core::prepareImage(img.pixels, r.preprocess, off, unused));
      for (size_t c = 0; c < r.epochs.size(); ++c) {
        core::Rng rng(core::augmentationSeed(r.seed, r.epochs[c], sample));
        out[1 + c] = toQImage(core::prepareImage(img.pixels, r.preprocess, r.augmentation, rng));
      }
    } catch (const std::exception& e) {
      g.errors << QStringLiteral("%1: %2").arg(
          QString::fromStdString(r.dataset->samples[sample].path), QString::fromUtf8(e.what()));
    }
  }
  return g;
}

std::vector<size_t> previewSamples(const core::Dataset& ds, size_t count) {
  std::vector<std::vector<size_t>> byClass(ds.numClasses());
  for (size_t i = 0; i < ds.size(); ++i) {
    const auto& s = ds.samples[i];
    const bool training = s.split == core::Split::Train || s.split == core::Split::None;
    if (training && s.label >= 0 && size_t(s.label) < byClass.size() &&
        byClass[s.label].size() < count)
      byClass[size_t(s.label)].push_back(i);
  }
  std::vector<size_t> picked;
  for (size_t round = 0; picked.size() < count; ++round) {
    bool any = false;
    for (const auto& members : byClass) {
      if (round < members.size() && picked.size() < count) {
        picked.push_back(members[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  return picked;
}

AugmentationPreview::AugmentationPreview(QObject* parent) : QObject(parent) {
  debounce_.setSingleShot(true);
  debounce_.setInterval(120);
  connect(&debounce_, &QTimer::timeout, this, &AugmentationPreview::launch);
}

AugmentationPreview::~AugmentationPreview() = default;

bool AugmentationPreview::isBusy() const { return debounce_.isActive() || task_.isRunning(); }

void AugmentationPreview::request(PreviewRequest request) {
  pending_ = std::move(request);
  debounce_.start();
}

void AugmentationPreview::launch() {
  // A render still running is superseded: cancelled, and its grid dropped.
  task_.start(
      [r = pending_](const std::atomic<bool>& cancelled) { return renderPreview(r, &cancelled); },
      [this](const PreviewGrid& grid) { emit ready(grid); });
}

}  // namespace tlab::ui
