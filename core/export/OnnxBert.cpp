// The ONNX graph of the BERT text encoders (MiniLM-L6, the scratch BERT), op for op as
// BertEncoderImpl computes it: see OnnxExport.h.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <limits>
#include <map>

#include "core/Errors.h"
#include "core/export/OnnxGraph.h"
#include "core/model/BertEncoder.h"

namespace tlab::core {
namespace {

class BertEmitter {
 public:
  BertEmitter(OnnxGraph& g, BertEncoderImpl& net) : g_(g), c_(net.config()) {
    for (const auto& kv : net.named_parameters()) params_[kv.key()] = kv.value().detach();
  }

  // Words + positions 0..L-1 + token type 0, then LayerNorm.
  std::string embeddings(const std::string& ids) {
    const auto& words =
        g_.node("Gather", {weight("embeddings.word_embeddings.weight"), ids}, "embeddings.words");
    const auto& shape = g_.node("Shape", {ids}, "ids_shape");
    const auto& len = g_.node(
        "Slice",
        {shape.output(0), g_.ints("one", {1}), g_.ints("two", {2}), g_.ints("zero_axis", {0})},
        "sequence_length");
    const auto& positions =
        g_.node("Slice",
                {weight("embeddings.position_embeddings.weight"), g_.ints("zero", {0}),
                 len.output(0), g_.ints("zero_axis", {0})},
                "embeddings.positions");
    const auto& sum = g_.node("Add", {words.output(0), positions.output(0)}, "embeddings.sum");
    const std::string typeRow = g_.initializer("embeddings.token_type_row0",
                                               param("embeddings.token_type_embeddings.weight")[0]);
    const auto& all = g_.node("Add", {sum.output(0), typeRow}, "embeddings.sum_types");
    return layerNorm(all.output(0), "embeddings.LayerNorm");
  }

  // The mask as float [N, L], and the additive attention bias [N, 1, 1, L]: 0 for tokens,
  // the lowest float for padding (so padded keys get exactly zero weight).
  void mask(const std::string& mask) {
    auto& cast = g_.node("Cast", {mask}, "mask_float");
    attrInt(cast, "to", onnx::TensorProto::FLOAT);
    maskF_ = cast.output(0);
    const auto& inverted = g_.node("Sub", {g_.scalar(1.f), maskF_}, "mask_inverted");
    const auto& lowest =
        g_.node("Mul", {inverted.output(0), g_.scalar(std::numeric_limits<float>::lowest())},
                "mask_lowest");
    bias_ = g_.node("Unsqueeze", {lowest.output(0), g_.ints("axes_1_2", {1, 2})}, "attention_bias")
                .output(0);
  }

  // One post-LayerNorm Transformer layer.
  std::string layer(int64_t i, const std::string& x) {
    const std::string l = "encoder.layer." + std::to_string(i);
    const std::string attn =
        layerNorm(g_.node("Add", {linear(attention(l, x), l + ".attention.output.dense"), x},
                          l + ".attention.residual")
                      .output(0),
                  l + ".attention.output.LayerNorm");
    const std::string out =
        linear(gelu(linear(attn, l + ".intermediate.dense"), l), l + ".output.dense");
    return layerNorm(g_.node("Add", {out, attn}, l + ".output.residual").output(0),
                     l + ".output.LayerNorm");
  }

  // Mean over the mask: sum(h * m) / max(sum(m), 1e-9).
  std::string meanPool(const std::string& x) {
    const auto& m3 = g_.node("Unsqueeze", {maskF_, g_.ints("axes_last", {-1})}, "mask_3d");
    const auto& weighted = g_.node("Mul", {x, m3.output(0)}, "pooling.weighted");
    const std::string axis1 = g_.ints("axes_1", {1});
    auto& summed = g_.node("ReduceSum", {weighted.output(0), axis1}, "pooling.sum");
    attrInt(summed, "keepdims", 0);
    auto& count = g_.node("ReduceSum", {m3.output(0), axis1}, "pooling.count");
    attrInt(count, "keepdims", 0);
    const auto& safe = g_.node("Max", {count.output(0), g_.scalar(1e-9f)}, "pooling.count_safe");
    return g_.node("Div", {summed.output(0), safe.output(0)}, "features").output(0);
  }

  int64_t layers() const { return c_.layers; }

 private:
  // Multi-head self-attention of layer `l`, heads merged back: [N, L, hidden].
  std::string attention(const std::string& l, const std::string& x) {
    const int64_t d = c_.hidden / c_.heads;
    auto heads = [&](const std::string& name, const std::vector<int64_t>& perm) {
      const auto& r = g_.node(
          "Reshape",
          {linear(x, l + ".attention.self." + name), g_.ints("split_heads", {0, 0, c_.heads, d})},
          l + "." + name + ".split");
      auto& t = g_.node("Transpose", {r.output(0)}, l + "." + name + ".heads");
      attrInts(t, "perm", perm);
      return t.output(0);
    };
    const std::string q = heads("query", {0, 2, 1, 3}), kT = heads("key", {0, 2, 3, 1});
    const std::string v = heads("value", {0, 2, 1, 3});
    const auto& qk = g_.node("MatMul", {q, kT}, l + ".scores");
    const auto& scaled =
        g_.node("Div", {qk.output(0), g_.scalar(float(std::sqrt(double(d))))}, l + ".scaled");
    const auto& masked = g_.node("Add", {scaled.output(0), bias_}, l + ".masked");
    auto& soft = g_.node("Softmax", {masked.output(0)}, l + ".probs");
    attrInt(soft, "axis", -1);
    const auto& ctx = g_.node("MatMul", {soft.output(0), v}, l + ".context");
    auto& back = g_.node("Transpose", {ctx.output(0)}, l + ".context_t");
    attrInts(back, "perm", {0, 2, 1, 3});
    return g_
        .node("Reshape", {back.output(0), g_.ints("merge_heads", {0, 0, c_.hidden})},
              l + ".context_merged")
        .output(0);
  }
  // Exact GELU: x * (1 + erf(x / sqrt(2))) * 0.5.
  std::string gelu(const std::string& x, const std::string& l) {
    const auto& div = g_.node("Div", {x, g_.scalar(float(std::sqrt(2.0)))}, l + ".gelu.div");
    const auto& erf = g_.node("Erf", {div.output(0)}, l + ".gelu.erf");
    const auto& onePlus = g_.node("Add", {erf.output(0), g_.scalar(1.f)}, l + ".gelu.add");
    const auto& times = g_.node("Mul", {x, onePlus.output(0)}, l + ".gelu.mul");
    return g_.node("Mul", {times.output(0), g_.scalar(0.5f)}, l + ".gelu").output(0);
  }
  std::string linear(const std::string& x, const std::string& prefix) {
    const std::string w =
        g_.initializer(prefix + ".weight_t", param(prefix + ".weight").t().contiguous());
    const auto& mm = g_.node("MatMul", {x, w}, prefix + ".matmul");
    return g_.node("Add", {mm.output(0), weight(prefix + ".bias")}, prefix).output(0);
  }
  std::string layerNorm(const std::string& x, const std::string& prefix) {
    auto& n = g_.node("LayerNormalization",
                      {x, weight(prefix + ".weight"), weight(prefix + ".bias")}, prefix);
    attrInt(n, "axis", -1);
    attrFloat(n, "epsilon", float(c_.layerNormEps));
    return n.output(0);
  }
  const torch::Tensor& param(const std::string& key) const {
    const auto it = params_.find(key);
    if (it == params_.end())
      throw InvalidArgument("ONNX export: BERT parameter '" + key + "' missing");
    return it->second;
  }
  std::string weight(const std::string& key) { return g_.initializer(key, param(key)); }

  OnnxGraph& g_;
  const BertConfig& c_;
  std::map<std::string, torch::Tensor> params_;
  std::string maskF_, bias_;
};

}  // namespace

std::string emitBert(OnnxGraph& g, BertEncoderImpl& net, const std::string& ids,
                     const std::string& mask) {
  BertEmitter e(g, net);
  std::string x = e.embeddings(ids);
  e.mask(mask);
  for (int64_t i = 0; i < e.layers(); ++i) x = e.layer(i, x);
  return e.meanPool(x);
}

}  // namespace tlab::core
