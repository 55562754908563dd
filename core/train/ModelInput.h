#pragma once
// Model inputs as tensors: a loader batch, one image or one text, shaped as the networks read
// them. Shared by training, evaluation, the LR finder and prediction.
#include <string_view>

#include "core/data/DataLoader.h"
#include "core/model/ImageClassifier.h"

namespace tlab::core {

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
