#pragma once
// A thin writer over onnx::GraphProto for the exporter: unique value names, float/int64
// initializers from tensors, nodes with attributes, and the graph's inputs and outputs.
// Only the export sources include it (it pulls in the ONNX protobuf types).
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace tlab::core {

inline void attrInt(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void attrFloat(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void attrInts(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& g) : g_(g) {}

  /// A node whose single output gets a unique name derived from `hint`.
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& hint) {
    auto* n = g_.add_node();
    n->set_op_type(op);
    const std::string out = unique(hint);
    n->set_name(out);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(out);
    return *n;
  }
  /// A float32 or int64 initializer (other types are converted to float32).
  std::string initializer(const std::string& hint, const torch::Tensor& tensor) {
    torch::Tensor t = tensor.detach().to(torch::kCPU);
    if (t.scalar_type() != torch::kLong) t = t.to(torch::kFloat);
    t = t.contiguous();
    auto* p = g_.add_initializer();
    const std::string name = unique(hint);
    p->set_name(name);
    p->set_data_type(t.scalar_type() == torch::kLong ? onnx::TensorProto::INT64
                                                     : onnx::TensorProto::FLOAT);
    for (int64_t d : t.sizes()) p->add_dims(d);
    p->set_raw_data(t.data_ptr(), size_t(t.numel()) * t.element_size());
    return name;
  }
  /// A float scalar constant, shared by value.
  std::string scalar(float v) {
    const std::string key = std::to_string(v);
    auto it = scalars_.find(key);
    if (it != scalars_.end()) return it->second;
    return scalars_[key] = initializer("const", torch::tensor(v));
  }
  /// A named int64 vector constant (shared by name).
  std::string ints(const std::string& name, const std::vector<int64_t>& v) {
    auto it = ints_.find(name);
    if (it != ints_.end()) return it->second;
    return ints_[name] = initializer(name, torch::tensor(v, torch::kLong));
  }
  /// A graph input; a dimension is a number ("224") or a symbolic name ("batch").
  void input(const std::string& name, int32_t elemType, const std::vector<std::string>& dims) {
    used_[name] = 1;
    auto* v = g_.add_input();
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elemType);
    for (const auto& d : dims) {
      auto* dim = t->mutable_shape()->add_dim();
      if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0]))) {
        dim->set_dim_value(std::stoll(d));
      } else {
        dim->set_dim_param(d);
      }
    }
  }
  /// Renames value `from` to the graph output `name`, float [batch, classes].
  void output(const std::string& from, const std::string& name, size_t classes) {
    for (auto& n : *g_.mutable_node()) {
      for (auto& o : *n.mutable_output())
        if (o == from) o = name;
      for (auto& i : *n.mutable_input())
        if (i == from) i = name;
    }
    auto* v = g_.add_output();
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("batch");
    t->mutable_shape()->add_dim()->set_dim_value(int64_t(classes));
  }

 private:
  std::string unique(const std::string& hint) {
    std::string name = hint;
    for (int k = 1; used_.count(name) != 0; ++k) name = hint + "_" + std::to_string(k);
    used_[name] = 1;
    return name;
  }
  onnx::GraphProto& g_;
  std::map<std::string, int> used_;
  std::map<std::string, std::string> scalars_, ints_;
};

class BertEncoderImpl;

/// BERT: token ids + attention mask (graph values `ids`, `mask`) -> the mean-pooled last hidden
/// states [batch, hidden] (OnnxBert.cpp). Returns the features' value name.
std::string emitBert(OnnxGraph& g, BertEncoderImpl& net, const std::string& ids,
                     const std::string& mask);

}  // namespace tlab::core
