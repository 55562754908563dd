#pragma once
// Decodes one dataset sample to an RGB QImage whose longer side is `maxSide` pixels (area
// averaging when shrinking, nearest neighbour when enlarging small images such as 28x28).
// A null image when the sample cannot be decoded. Thread-safe: called from worker threads.
#include <QImage>

#include "core/dataset/Dataset.h"

namespace tlab::ui {

/// Side of the thumbnails in the sample grid and the evaluation gallery, in pixels.
constexpr int kThumbnailSide = 96;

QImage sampleImage(const core::Dataset& dataset, size_t sample, int maxSide);

}  // namespace tlab::ui
