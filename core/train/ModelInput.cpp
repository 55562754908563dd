#include "core/train/ModelInput.h"

#include "core/text/WordPieceTokenizer.h"

namespace tlab::core {

torch::Tensor inputTensor(Batch& b) {
  if (b.seqLength > 0) {
    return torch::from_blob(b.tokens.data(), {int64_t(b.size()), 2, b.seqLength}, torch::kLong);
  }
  return torch::from_blob(b.images.data(), {int64_t(b.size()), b.channels, b.height, b.width});
}

torch::Tensor imageInput(const cv::Mat& image, const Preprocess& preprocess) {
  Rng rng(0);  // unused: no augmentation in the evaluation view
  const cv::Mat prepared = prepareImage(image, preprocess, {}, rng);
  auto x = torch::empty({1, preprocess.channels, preprocess.inputSize, preprocess.inputSize});
  normalizeToChw(prepared, preprocess, x.data_ptr<float>());
  return x;
}

torch::Tensor textInput(std::string_view text, const Preprocess& preprocess, size_t* truncated) {
  TORCH_CHECK(preprocess.tokenizer, "textInput: the preprocessing has no tokenizer");
  const TokenizedText t = preprocess.tokenizer->encode(text, size_t(preprocess.inputSize));
  if (truncated) *truncated = t.pieces + 2 - t.ids.size();
  const auto n = int64_t(t.ids.size());
  return torch::stack({torch::tensor(t.ids), torch::ones({n}, torch::kLong)}).unsqueeze(0);
}

torch::Tensor labelsTensor(Batch& b) {
  return torch::from_blob(b.labels.data(), {int64_t(b.size())}, torch::kLong);
}

}  // namespace tlab::core
