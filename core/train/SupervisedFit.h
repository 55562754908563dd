#pragma once
// A plain supervised training loop (AdamW, cosine schedule, cross-entropy) used to pre-train the
// bundled small CNN (`transferlab-cli pretrain`). Blocking: call it from a worker thread. The
// full interactive trainer (pause/resume, checkpoints, strategies) is built on the same pieces.
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/data/DataLoader.h"
#include "core/model/FreezeSpec.h"
#include "core/model/ImageClassifier.h"

namespace tlab::core {

struct FitOptions {
  int epochs = 5;
  size_t batchSize = 128;
  double learningRate = 2e-3;
  double weightDecay = 1e-4;
  uint64_t seed = 1;
  int workers = 2;
  Augmentation augmentation;
  FreezeSpec freeze;
};

struct FitEpoch {
  int epoch = 0;
  double trainLoss = 0, trainAccuracy = 0, evalAccuracy = 0;
  double seconds = 0;
  double imagesPerSecond = 0;
};

std::vector<FitEpoch> fitClassifier(ImageClassifierImpl& net,
                                    std::shared_ptr<const Dataset> dataset,
                                    const std::vector<size_t>& trainIndices,
                                    const std::vector<size_t>& evalIndices,
                                    const Preprocess& preprocess, const FitOptions& options,
                                    const std::function<void(const FitEpoch&)>& onEpoch = {});

/// Top-1 accuracy of `net` (eval mode, no gradients) on `indices`.
double evaluateAccuracy(ImageClassifierImpl& net, std::shared_ptr<const Dataset> dataset,
                        const std::vector<size_t>& indices, const Preprocess& preprocess,
                        size_t batchSize = 256, int workers = 2);

/// Wraps a loader batch as the model's input tensor without copying (valid while `batch`
/// lives): float images [N, C, H, W], or int64 tokens [N, 2, L] for text.
torch::Tensor inputTensor(Batch& batch);
/// One image (8-bit, 1 or 3 channels, RGB) as the evaluation view: [1, C, H, W].
torch::Tensor imageInput(const cv::Mat& image, const Preprocess& preprocess);
/// One text as tokens [1, 2, L] (ids, mask); needs preprocess.tokenizer. `truncated` (optional)
/// receives how many tokens were cut.
torch::Tensor textInput(std::string_view text, const Preprocess& preprocess,
                        size_t* truncated = nullptr);
torch::Tensor labelsTensor(Batch& batch);

}  // namespace tlab::core
