#pragma once
// A BERT encoder (post-LayerNorm Transformer, exact-erf GELU) with mean pooling over the
// attention mask, as sentence-transformers trains all-MiniLM-L6-v2. Modules carry the Hugging
// Face BertModel key names ("embeddings.word_embeddings", "encoder.layer.3.attention.self.query",
// ...), so a published model.safetensors loads by name; its unused pooler ("pooler.dense", the
// [CLS] projection) and the position_ids buffer are skipped on purpose.
//
// Input: token tensor [N, 2, L] int64, row 0 the token ids and row 1 the attention mask (1 for
// real tokens, 0 for padding); see WordPieceTokenizer::encodeBatch. Stages: "embeddings",
// "layer.0" .. "layer.<n-1>"; head "head" (Linear over the pooled sentence embedding).
#include "core/model/ImageClassifier.h"

namespace tlab::core {

struct BertConfig {
  int64_t layers = 6, hidden = 384, heads = 12, intermediate = 1536;
  int64_t vocabSize = 30522, maxPositions = 512, typeVocabSize = 2;
  double layerNormEps = 1e-12, dropout = 0.1;

  /// "bert_l6_h384_a12" -> 6 layers, hidden 384, 12 heads (intermediate 4 x hidden, BERT
  /// vocabulary); nullopt when `architecture` does not have that form.
  static std::optional<BertConfig> fromArchitecture(const std::string& architecture);
  /// Parameters of the encoder this config builds (without the head), computed without
  /// building it, so a file describing a model can be checked against its weights first.
  int64_t parameterCount() const;
};

class BertEncoderImpl : public ImageClassifierImpl {
 public:
  BertEncoderImpl(const BertConfig& config, int64_t numClasses);
  torch::Tensor features(torch::Tensor tokens) override;
  std::vector<Stage> stages() const override;
  int64_t featureDim() const override { return config_.hidden; }
  torch::Tensor exampleInput(int inputSize, int channels) const override;
  std::vector<std::string> unusedWeightPrefixes() const override {
    return {"pooler.", "embeddings.position_ids"};
  }
  /// Hidden states [N, L, hidden] of the last layer (before pooling).
  torch::Tensor encode(const torch::Tensor& ids, const torch::Tensor& mask);
  const BertConfig& config() const { return config_; }

 private:
  struct Layer {
    torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attnDense{nullptr};
    torch::nn::LayerNorm attnNorm{nullptr};
    torch::nn::Linear interDense{nullptr}, outDense{nullptr};
    torch::nn::LayerNorm outNorm{nullptr};
  };
  torch::Tensor runLayer(Layer& l, torch::Tensor x, const torch::Tensor& bias);

  BertConfig config_;
  torch::nn::Embedding words_{nullptr}, positions_{nullptr}, types_{nullptr};
  torch::nn::LayerNorm embNorm_{nullptr};
  std::vector<Layer> layers_;
};

}  // namespace tlab::core
