#include "core/model/BertEncoder.h"

#include "core/model/Activations.h"

#include <cmath>
#include <limits>
#include <regex>

namespace tlab::core {
namespace nn = torch::nn;
namespace {

// A named container (the Hugging Face nesting: attention.self, attention.output, ...).
std::shared_ptr<nn::Module> group(nn::Module& parent, const std::string& name,
                                  const std::string& type) {
  return parent.register_module(name, std::make_shared<nn::Module>(type));
}

nn::Linear linear(nn::Module& parent, const std::string& name, int64_t in, int64_t out) {
  return parent.register_module(name, nn::Linear(in, out));
}

nn::LayerNorm layerNorm(nn::Module& parent, int64_t dim, double eps) {
  return parent.register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(eps)));
}

}  // namespace

std::optional<BertConfig> BertConfig::fromArchitecture(const std::string& architecture) {
  static const std::regex pattern("bert_l([0-9]{1,2})_h([0-9]{2,4})_a([0-9]{1,2})");
  std::smatch m;
  if (!std::regex_match(architecture, m, pattern)) return std::nullopt;
  BertConfig c;
  c.layers = std::stoll(m[1]);
  c.hidden = std::stoll(m[2]);
  c.heads = std::stoll(m[3]);
  if (c.layers < 1 || c.heads < 1 || c.hidden % c.heads != 0) return std::nullopt;
  c.intermediate = 4 * c.hidden;
  return c;
}

int64_t BertConfig::parameterCount() const {
  const int64_t h = hidden, f = intermediate;
  const int64_t embeddings = (vocabSize + maxPositions + typeVocabSize) * h + 2 * h;
  // Q, K, V and output projections, two layer norms, the feed-forward pair.
  const int64_t layer = 4 * (h * h + h) + 2 * 2 * h + (h * f + f) + (f * h + h);
  return embeddings + layers * layer;
}

BertEncoderImpl::BertEncoderImpl(const BertConfig& c, int64_t numClasses) : config_(c) {
  auto emb = group(*this, "embeddings", "BertEmbeddings");
  words_ = emb->register_module("word_embeddings", nn::Embedding(c.vocabSize, c.hidden));
  positions_ = emb->register_module("position_embeddings", nn::Embedding(c.maxPositions, c.hidden));
  types_ = emb->register_module("token_type_embeddings", nn::Embedding(c.typeVocabSize, c.hidden));
  embNorm_ = layerNorm(*emb, c.hidden, c.layerNormEps);

  auto encoder = group(*this, "encoder", "BertEncoder");
  auto list = group(*encoder, "layer", "ModuleList");
  for (int64_t i = 0; i < c.layers; ++i) {
    auto block = group(*list, std::to_string(i), "BertLayer");
    auto attention = group(*block, "attention", "BertAttention");
    auto self = group(*attention, "self", "BertSelfAttention");
    auto attnOut = group(*attention, "output", "BertSelfOutput");
    auto inter = group(*block, "intermediate", "BertIntermediate");
    auto out = group(*block, "output", "BertOutput");
    Layer l;
    l.query = linear(*self, "query", c.hidden, c.hidden);
    l.key = linear(*self, "key", c.hidden, c.hidden);
    l.value = linear(*self, "value", c.hidden, c.hidden);
    l.attnDense = linear(*attnOut, "dense", c.hidden, c.hidden);
    l.attnNorm = layerNorm(*attnOut, c.hidden, c.layerNormEps);
    l.interDense = linear(*inter, "dense", c.hidden, c.intermediate);
    l.outDense = linear(*out, "dense", c.intermediate, c.hidden);
    l.outNorm = layerNorm(*out, c.hidden, c.layerNormEps);
    layers_.push_back(l);
  }
  nn::Linear head(c.hidden, numClasses);
  setHead(
      "head", head.ptr(), [head](torch::Tensor x) mutable { return head->forward(x); }, numClasses);

  // BERT's initialisation (what a from-scratch run starts from): N(0, 0.02) weights, zero biases.
  torch::NoGradGuard noGrad;
  for (auto& p : named_parameters()) {
    const std::string& k = p.key();
    if (k.find("LayerNorm") != std::string::npos) continue;
    if (k.size() >= 5 && k.compare(k.size() - 5, 5, ".bias") == 0) {
      p.value().zero_();
    } else {
      p.value().normal_(0.0, 0.02);
    }
  }
}

torch::Tensor BertEncoderImpl::runLayer(Layer& l, torch::Tensor x, const torch::Tensor& bias) {
  const int64_t n = x.size(0), len = x.size(1), h = config_.heads, d = config_.hidden / h;
  // Q, K and V in one matrix product (the three weights side by side; autograd hands each its
  // share of the gradient), with 1/sqrt(d) folded into Q's weights instead of scaling the
  // len x len scores.
  const double scale = 1.0 / std::sqrt(double(d));
  const auto w = torch::cat({l.query->weight * scale, l.key->weight, l.value->weight});
  const auto b = torch::cat({l.query->bias * scale, l.key->bias, l.value->bias});
  const auto qkv = torch::linear(x, w, b).view({n, len, 3, h, d}).permute({2, 0, 3, 1, 4});
  auto scores = torch::matmul(qkv[0], qkv[1].transpose(-1, -2));
  if (bias.defined()) scores = scores + bias;
  auto probs = fastDropout(torch::softmax(scores, -1), config_.dropout, is_training());
  auto context = torch::matmul(probs, qkv[2]).transpose(1, 2).reshape({n, len, config_.hidden});
  auto attn = l.attnNorm->forward(
      fastDropout(l.attnDense->forward(context), config_.dropout, is_training()) + x);
  auto inner = torch::gelu(l.interDense->forward(attn));
  return l.outNorm->forward(
      fastDropout(l.outDense->forward(inner), config_.dropout, is_training()) + attn);
}

torch::Tensor BertEncoderImpl::encode(const torch::Tensor& ids, const torch::Tensor& mask) {
  const int64_t len = ids.size(1);
  TORCH_CHECK(len <= config_.maxPositions, "BertEncoder: ", len, " tokens exceed the maximum of ",
              config_.maxPositions);
  const auto positions = torch::arange(len, ids.options());
  auto x = words_->forward(ids) + positions_->forward(positions).unsqueeze(0) +
           types_->forward(torch::zeros_like(ids));
  x = record("embeddings", fastDropout(embNorm_->forward(x), config_.dropout, is_training()));
  // Additive mask: padded keys get the lowest float, so their softmax weight is exactly 0. A
  // batch without padding (length-grouped batches mostly are) needs none: the scores keep the
  // matrix product's own precision instead of being promoted to the mask's.
  torch::Tensor bias;
  if (!mask.all().item<bool>())
    bias = (1.0 - mask.to(x.dtype())).view({mask.size(0), 1, 1, len}) *
           std::numeric_limits<float>::lowest();
  for (size_t i = 0; i < layers_.size(); ++i) {
    x = record("encoder.layer." + std::to_string(i), runLayer(layers_[i], x, bias));
  }
  return x;
}

torch::Tensor BertEncoderImpl::features(torch::Tensor tokens) {
  TORCH_CHECK(tokens.dim() == 3 && tokens.size(1) == 2,
              "BertEncoder expects tokens [N, 2, L] (ids, mask), got ", tokens.sizes());
  const auto ids = tokens.select(1, 0);
  const auto mask = tokens.select(1, 1);
  const auto hidden = encode(ids, mask);
  const auto m = mask.unsqueeze(-1).to(hidden.dtype());
  return record("pooling", (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9));
}

std::vector<ImageClassifierImpl::Stage> BertEncoderImpl::stages() const {
  std::vector<Stage> s{{"embeddings", {"embeddings"}}};
  for (size_t i = 0; i < layers_.size(); ++i) {
    s.push_back({"layer." + std::to_string(i), {"encoder.layer." + std::to_string(i)}});
  }
  return s;
}

torch::Tensor BertEncoderImpl::exampleInput(int inputSize, int /*channels*/) const {
  const int64_t len = std::clamp<int64_t>(inputSize, 2, config_.maxPositions);
  auto tokens = torch::ones({1, 2, len}, torch::kLong);
  return tokens;
}

}  // namespace tlab::core
