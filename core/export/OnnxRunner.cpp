#include "core/export/OnnxRunner.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <unordered_map>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxOnnxBytes = uint64_t(2) << 30;  // protobuf's own limit
constexpr int64_t kMaxElements = int64_t(1) << 31;

const onnx::AttributeProto* findAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attrInt(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  const auto* a = findAttr(n, name);
  return a ? a->i() : fallback;
}
float attrFloat(const onnx::NodeProto& n, const std::string& name, float fallback) {
  const auto* a = findAttr(n, name);
  return a ? a->f() : fallback;
}
std::vector<int64_t> attrInts(const onnx::NodeProto& n, const std::string& name,
                              std::vector<int64_t> fallback = {}) {
  const auto* a = findAttr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}

std::vector<int64_t> toInts(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).contiguous().reshape(-1);
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

int64_t normAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) throw std::out_of_range("axis out of range");
  return axis < 0 ? axis + rank : axis;
}

torch::Tensor tensorFrom(const onnx::TensorProto& p, const std::string& file) {
  auto bad = [&](const std::string& why) {
    throw FormatError(file, "initializer '" + p.name() + "': " + why);
  };
  std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && n > kMaxElements / d)) bad("bad or too large shape");
    n *= d;
  }
  torch::ScalarType type;
  size_t elem = 0;
  if (p.data_type() == onnx::TensorProto::FLOAT) {
    type = torch::kFloat, elem = 4;
  } else if (p.data_type() == onnx::TensorProto::INT64) {
    type = torch::kLong, elem = 8;
  } else {
    bad("data type " + std::to_string(p.data_type()) + " is not float32 or int64");
  }
  torch::Tensor t = torch::empty(dims, torch::TensorOptions().dtype(type));
  if (p.has_raw_data()) {
    if (p.raw_data().size() != size_t(n) * elem)
      bad("holds " + std::to_string(p.raw_data().size()) + " bytes, its shape needs " +
          std::to_string(size_t(n) * elem));
    if (n > 0) std::memcpy(t.data_ptr(), p.raw_data().data(), size_t(n) * elem);
  } else if (type == torch::kFloat && p.float_data_size() == n) {
    if (n > 0) std::memcpy(t.data_ptr(), p.float_data().data(), size_t(n) * elem);
  } else if (type == torch::kLong && p.int64_data_size() == n) {
    if (n > 0) std::memcpy(t.data_ptr(), p.int64_data().data(), size_t(n) * elem);
  } else {
    bad("its data does not match its shape");
  }
  return t;
}

}  // namespace

struct OnnxRunner::Impl {
  std::string file;
  onnx::ModelProto model;
  std::map<std::string, std::string> metadata;
  std::unordered_map<std::string, torch::Tensor> initializers;

  torch::Tensor runNode(const onnx::NodeProto& n, const std::vector<torch::Tensor>& in) const;
};

OnnxRunner::OnnxRunner(const fs::path& path) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.file = path.string();
  const auto bytes = readFileBytes(path, kMaxOnnxBytes);
  if (!m.model.ParseFromArray(bytes.data(), int(bytes.size())))
    throw FormatError(m.file, "not an ONNX model (the protobuf does not parse)");
  try {
    onnx::checker::check_model(m.model);
  } catch (const std::exception& e) {
    throw FormatError(m.file, std::string("rejected by the ONNX checker: ") + e.what());
  }
  for (const auto& o : m.model.opset_import()) {
    if ((o.domain().empty() || o.domain() == "ai.onnx") && (o.version() < 13 || o.version() > 17))
      throw FormatError(m.file, "opset " + std::to_string(o.version()) + " (expected 13..17)");
  }
  for (const auto& p : m.model.metadata_props()) m.metadata[p.key()] = p.value();
  for (const auto& p : m.model.graph().initializer())
    m.initializers[p.name()] = tensorFrom(p, m.file);
  if (m.model.graph().output_size() < 1) throw FormatError(m.file, "the graph has no output");
}

OnnxRunner::~OnnxRunner() = default;

const std::map<std::string, std::string>& OnnxRunner::metadata() const { return impl_->metadata; }

std::vector<std::string> OnnxRunner::inputNames() const {
  std::vector<std::string> names;
  for (const auto& i : impl_->model.graph().input())
    if (!impl_->initializers.count(i.name())) names.push_back(i.name());
  return names;
}

torch::Tensor OnnxRunner::run(const std::map<std::string, torch::Tensor>& inputs) const {
  torch::NoGradGuard noGrad;
  const Impl& m = *impl_;
  std::unordered_map<std::string, torch::Tensor> values(m.initializers);
  for (const auto& name : inputNames()) {
    const auto it = inputs.find(name);
    if (it == inputs.end())
      throw InvalidArgument(m.file + ": the model needs input '" + name + "'");
    values[name] = it->second;
  }
  for (const auto& n : m.model.graph().node()) {
    std::vector<torch::Tensor> in;
    for (const auto& name : n.input()) {
      if (name.empty()) {  // an omitted optional input
        in.emplace_back();
        continue;
      }
      const auto it = values.find(name);
      if (it == values.end())
        throw FormatError(m.file, "node '" + n.name() + "' reads '" + name +
                                      "', which nothing before it produced");
      in.push_back(it->second);
    }
    try {
      values[n.output(0)] = m.runNode(n, in);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw FormatError(m.file, "node '" + n.name() + "' (" + n.op_type() + "): " + e.what());
    }
  }
  const auto it = values.find(m.model.graph().output(0).name());
  if (it == values.end()) throw FormatError(m.file, "the graph's output is never produced");
  return it->second;
}

torch::Tensor OnnxRunner::Impl::runNode(const onnx::NodeProto& n,
                                        const std::vector<torch::Tensor>& in) const {
  const std::string& op = n.op_type();
  auto need = [&](size_t count) {
    if (in.size() < count || !in[0].defined())
      throw FormatError(
          file, "node '" + n.name() + "' (" + op + ") needs " + std::to_string(count) + " inputs");
  };
  need(1);
  const torch::Tensor& x = in[0];
  if (op == "Relu") return torch::relu(x);
  if (op == "Erf") return torch::erf(x);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max") {
    need(2);
    if (op == "Add") return x + in[1];
    if (op == "Sub") return x - in[1];
    if (op == "Mul") return x * in[1];
    if (op == "Div") return x / in[1];
    return torch::maximum(x, in[1]);
  }
  if (op == "Clip") {
    c10::optional<torch::Scalar> lo, hi;
    if (in.size() > 1 && in[1].defined()) lo = in[1].item();
    if (in.size() > 2 && in[2].defined()) hi = in[2].item();
    return torch::clamp(x, lo, hi);
  }
  if (op == "Conv") {
    need(2);
    const auto strides = attrInts(n, "strides", {1, 1});
    const auto dil = attrInts(n, "dilations", {1, 1});
    auto pads = attrInts(n, "pads", {0, 0, 0, 0});
    if (x.dim() != 4 || strides.size() != 2 || dil.size() != 2 || pads.size() != 4)
      throw FormatError(file, "node '" + n.name() + "': only 2-D convolutions are supported");
    torch::Tensor input = x;
    if (pads[0] != pads[2] || pads[1] != pads[3]) {  // asymmetric (TF "SAME"): pad first
      input = torch::constant_pad_nd(x, {pads[1], pads[3], pads[0], pads[2]}, 0);
      pads = {0, 0, 0, 0};
    }
    const torch::Tensor bias = in.size() > 2 ? in[2] : torch::Tensor();
    return torch::conv2d(input, in[1], bias, strides, {pads[0], pads[1]}, dil,
                         attrInt(n, "group", 1));
  }
  if (op == "MaxPool") {
    const auto k = attrInts(n, "kernel_shape");
    const auto s = attrInts(n, "strides", {1, 1});
    const auto p = attrInts(n, "pads", {0, 0, 0, 0});
    if (k.size() != 2 || s.size() != 2 || p.size() != 4 || p[0] != p[2] || p[1] != p[3] ||
        attrInt(n, "ceil_mode", 0) != 0)
      throw FormatError(file, "node '" + n.name() + "': unsupported MaxPool attributes");
    return torch::max_pool2d(x, k, s, {p[0], p[1]});
  }
  if (op == "GlobalAveragePool") return x.mean({2, 3}, true);
  if (op == "Flatten") {
    const int64_t axis = normAxis(attrInt(n, "axis", 1), std::max<int64_t>(x.dim(), 1));
    int64_t before = 1;
    for (int64_t d = 0; d < axis; ++d) before *= x.size(d);
    return x.reshape({before, -1});
  }
  if (op == "Gemm") {
    need(2);
    const auto a = attrInt(n, "transA", 0) ? x.t() : x;
    const auto b = attrInt(n, "transB", 0) ? in[1].t() : in[1];
    const float alpha = attrFloat(n, "alpha", 1.f), beta = attrFloat(n, "beta", 1.f);
    if (in.size() > 2 && in[2].defined()) return torch::addmm(in[2], a, b, beta, alpha);
    return torch::mm(a, b) * alpha;
  }
  if (op == "MatMul") {
    need(2);
    return torch::matmul(x, in[1]);
  }
  if (op == "Softmax") return torch::softmax(x, normAxis(attrInt(n, "axis", -1), x.dim()));
  if (op == "Gather") {
    need(2);
    const int64_t axis = normAxis(attrInt(n, "axis", 0), x.dim());
    auto idx = in[1].to(torch::kLong);
    const int64_t size = x.size(axis);
    if (idx.numel() > 0 && (idx.min().item<int64_t>() < -size || idx.max().item<int64_t>() >= size))
      throw FormatError(file, "node '" + n.name() + "': an index is out of range (size " +
                                  std::to_string(size) + ")");
    idx = torch::where(idx < 0, idx + size, idx);
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
    for (int64_t d : idx.sizes()) shape.push_back(d);
    for (int64_t d = axis + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
    return x.index_select(axis, idx.reshape(-1)).reshape(shape);
  }
  if (op == "Shape") return torch::tensor(x.sizes().vec(), torch::kLong);
  if (op == "Slice") {
    need(3);
    const auto starts = toInts(in[1]), ends = toInts(in[2]);
    std::vector<int64_t> axes, steps;
    if (in.size() > 3 && in[3].defined()) axes = toInts(in[3]);
    if (in.size() > 4 && in[4].defined()) steps = toInts(in[4]);
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        (!steps.empty() && steps.size() != starts.size()))
      throw FormatError(file, "node '" + n.name() + "': Slice inputs disagree in length");
    torch::Tensor y = x;
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t axis = normAxis(axes[i], x.dim()), dim = x.size(axis);
      const int64_t step = steps.empty() ? 1 : steps[i];
      if (step != 1) throw FormatError(file, "node '" + n.name() + "': Slice step must be 1");
      auto clampIndex = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + dim : v, 0, dim); };
      const int64_t b = clampIndex(starts[i]), e = std::max(b, clampIndex(ends[i]));
      y = y.slice(axis, b, e);
    }
    return y;
  }
  if (op == "Reshape") {
    need(2);
    if (attrInt(n, "allowzero", 0) != 0)
      throw FormatError(file, "node '" + n.name() + "': Reshape allowzero is not supported");
    auto shape = toInts(in[1]);
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0) {
        if (int64_t(i) >= x.dim()) throw std::out_of_range("Reshape copies a missing dimension");
        shape[i] = x.size(int64_t(i));
      }
    }
    return x.reshape(shape);
  }
  if (op == "Transpose") {
    auto perm = attrInts(n, "perm");
    if (perm.empty())
      for (int64_t d = x.dim() - 1; d >= 0; --d) perm.push_back(d);
    return x.permute(perm);
  }
  if (op == "Unsqueeze") {
    need(2);
    auto axes = toInts(in[1]);
    const int64_t rank = x.dim() + int64_t(axes.size());
    for (auto& a : axes) a = normAxis(a, rank);
    std::sort(axes.begin(), axes.end());
    torch::Tensor y = x;
    for (int64_t a : axes) y = y.unsqueeze(a);
    return y;
  }
  if (op == "ReduceSum") {
    const bool keep = attrInt(n, "keepdims", 1) != 0;
    std::vector<int64_t> axes;
    if (in.size() > 1 && in[1].defined()) axes = toInts(in[1]);
    if (axes.empty()) {
      if (attrInt(n, "noop_with_empty_axes", 0)) return x;
      for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
    }
    for (auto& a : axes) a = normAxis(a, x.dim());
    return x.sum(axes, keep);
  }
  if (op == "Cast") {
    const int64_t to = attrInt(n, "to", 0);
    if (to == onnx::TensorProto::FLOAT) return x.to(torch::kFloat);
    if (to == onnx::TensorProto::INT64) return x.to(torch::kLong);
    throw FormatError(
        file, "node '" + n.name() + "': Cast to type " + std::to_string(to) + " is not supported");
  }
  if (op == "LayerNormalization") {
    const int64_t axis = normAxis(attrInt(n, "axis", -1), x.dim());
    const std::vector<int64_t> shape(x.sizes().begin() + axis, x.sizes().end());
    const torch::Tensor scale = in.size() > 1 ? in[1] : torch::Tensor();
    const torch::Tensor bias = in.size() > 2 ? in[2] : torch::Tensor();
    return torch::layer_norm(x, shape, scale, bias, attrFloat(n, "epsilon", 1e-5f));
  }
  throw FormatError(file, "node '" + n.name() + "': operator " + op +
                              " is not one TransferLab exports (this is not a TransferLab "
                              "export, or it was changed)");
}

}  // namespace tlab::core
