#pragma once
// Image preprocessing (resize + normalisation for a backbone) and seeded augmentation. Every
// random choice comes from the Rng passed in, so a (seed, epoch, sample) triple always yields
// the same pixels whatever thread or worker count produced them. Pure functions; thread-safe.
#include <array>
#include <cstdint>
#include <memory>

#include <opencv2/core/mat.hpp>

#include "core/util/Random.h"

namespace tlab::core {
class WordPieceTokenizer;

/// How samples become model input. Images: resize/crop to inputSize x inputSize and normalise.
/// Text (when `tokenizer` is set): WordPiece tokens, at most inputSize of them per text.
struct Preprocess {
  int inputSize = 224;                                ///< pixels per side, or tokens for text
  int channels = 3;                                   ///< 1 (grey) or 3 (RGB)
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  ///< ImageNet defaults, per channel
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  /// Evaluation: resize the shorter side to inputSize / cropFraction, then centre-crop
  /// (0.875 is the usual ImageNet protocol; 1.0 keeps the whole square image).
  double cropFraction = 0.875;
  std::shared_ptr<const WordPieceTokenizer> tokenizer;  ///< text backbones only
};

struct Augmentation {
  bool enabled = false;
  double minScale = 0.08, maxScale = 1.0;             ///< random resized crop, area fraction
  double minRatio = 3.0 / 4.0, maxRatio = 4.0 / 3.0;  ///< aspect ratio range
  double hflipProbability = 0.5;
  double rotationDegrees = 0.0;                               ///< uniform in [-d, d]
  double brightness = 0.0, contrast = 0.0, saturation = 0.0;  ///< jitter strength, 0 = off
};

/// Seed of the random stream that augments `sample` in `epoch` (0-based) of a run seeded with
/// `seed`. The data loader and the GUI's augmentation preview both use it.
inline uint64_t augmentationSeed(uint64_t seed, uint64_t epoch, uint64_t sample) {
  return mixSeed(seed, epoch, sample);
}

/// Geometric + colour pipeline: returns an 8-bit inputSize x inputSize image with
/// `preprocess.channels` channels (training view when augmentation is enabled, else the
/// deterministic evaluation view). `input` is 8-bit with 1 or 3 (RGB) channels.
cv::Mat prepareImage(const cv::Mat& input, const Preprocess& preprocess,
                     const Augmentation& augmentation, Rng& rng);

/// Writes the normalised CHW float image ((x/255 - mean) / std) into `out`, which must hold
/// channels * inputSize * inputSize floats.
void normalizeToChw(const cv::Mat& prepared, const Preprocess& preprocess, float* out);

}  // namespace tlab::core
