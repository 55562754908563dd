#include "core/export/OnnxExport.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/version.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/export/OnnxGraph.h"
#include "core/model/BatchNormFolding.h"
#include "core/model/BertEncoder.h"
#include "core/model/EfficientNetLite.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/ModelBundle.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace nn = torch::nn;
using nlohmann::json;

namespace {

// A feature map flowing through an image graph: its value name and static channels/size (the
// spatial size is fixed by the preprocessing, so TF-"SAME" paddings are known when exporting).
struct Map {
  std::string name;
  int64_t c = 0, h = 0, w = 0;
};

// The modules of a network by path ("layer1.0.conv1"), as registered.
class Modules {
 public:
  explicit Modules(nn::Module& net) {
    for (const auto& m : net.named_modules("", false)) byPath_[m.key()] = m.value();
  }
  bool has(const std::string& path) const { return byPath_.count(path) != 0; }
  template <typename T>
  T& get(const std::string& path) const {
    const auto it = byPath_.find(path);
    T* m = it == byPath_.end() ? nullptr : it->second->as<T>();
    if (!m)
      throw InvalidArgument("ONNX export: module '" + path + "' is missing or of another type");
    return *m;
  }
  nn::Module& any(const std::string& path) const {
    const auto it = byPath_.find(path);
    if (it == byPath_.end()) throw InvalidArgument("ONNX export: module '" + path + "' is missing");
    return *it->second;
  }

 private:
  std::map<std::string, std::shared_ptr<nn::Module>> byPath_;
};

// A convolution's padding when given as sizes (libtorch 2.1 moved from c10::variant to std).
template <typename Variant>
const torch::ExpandingArray<2>* explicitPadding(const Variant& v) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  return std::get_if<torch::ExpandingArray<2>>(&v);
#else
  return c10::get_if<torch::ExpandingArray<2>>(&v);
#endif
}

// Emits the image networks' operators.
class ImageEmitter {
 public:
  ImageEmitter(OnnxGraph& g, const Modules& m) : g_(g), m_(m) {}

  // conv (+ folded BatchNorm) with the convolution's own symmetric padding, or TF "SAME".
  Map conv(const Map& x, const std::string& convPath, const std::string& bnPath,
           bool same = false) {
    auto& conv = m_.get<nn::Conv2dImpl>(convPath);
    const auto& o = conv.options;
    const int64_t k = (*o.kernel_size())[0], s = (*o.stride())[0], groups = o.groups();
    const int64_t cout = o.out_channels();
    int64_t pads[4];  // top, left, bottom, right
    if (same && s > 1) {
      auto total = [&](int64_t in) {
        return std::max<int64_t>(((in + s - 1) / s - 1) * s + k - in, 0);
      };
      const int64_t ph = total(x.h), pw = total(x.w);
      pads[0] = ph / 2, pads[1] = pw / 2, pads[2] = ph - ph / 2, pads[3] = pw - pw / 2;
    } else {
      const auto* p = explicitPadding(o.padding());
      if (!p) throw InvalidArgument("ONNX export: '" + convPath + "' pads by name, not by size");
      pads[0] = pads[2] = (**p)[0];
      pads[1] = pads[3] = (**p)[1];
    }
    torch::Tensor w = conv.weight.detach().to(torch::kDouble);
    torch::Tensor b = conv.bias.defined() ? conv.bias.detach().to(torch::kDouble)
                                          : torch::zeros({cout}, torch::kDouble);
    if (!bnPath.empty()) {  // fold in double, as BatchNormFolding does
      auto& bn = m_.get<foldable::BatchNorm2dImpl>(bnPath);
      auto scale = (bn.running_var.detach().to(torch::kDouble) + bn.options.eps()).rsqrt();
      if (bn.options.affine()) scale = scale * bn.weight.detach().to(torch::kDouble);
      auto shift = (b - bn.running_mean.detach().to(torch::kDouble)) * scale;
      if (bn.options.affine()) shift = shift + bn.bias.detach().to(torch::kDouble);
      w = w * scale.view({-1, 1, 1, 1});
      b = shift;
    }
    const std::string wn = g_.initializer(convPath + ".weight", w.to(torch::kFloat));
    const std::string bname = g_.initializer(convPath + ".bias", b.to(torch::kFloat));
    auto& n = g_.node("Conv", {x.name, wn, bname}, convPath);
    attrInts(n, "kernel_shape", {k, k});
    attrInts(n, "strides", {s, s});
    attrInts(n, "pads", {pads[0], pads[1], pads[2], pads[3]});
    attrInt(n, "group", groups);
    Map y{n.output(0), cout, (x.h + pads[0] + pads[2] - k) / s + 1,
          (x.w + pads[1] + pads[3] - k) / s + 1};
    return y;
  }
  Map relu(const Map& x) { return like(x, g_.node("Relu", {x.name}, x.name + ".relu").output(0)); }
  Map relu6(const Map& x) {
    return like(
        x, g_.node("Clip", {x.name, g_.scalar(0.f), g_.scalar(6.f)}, x.name + ".relu6").output(0));
  }
  Map add(const Map& a, const Map& b) {
    return like(a, g_.node("Add", {a.name, b.name}, a.name + ".add").output(0));
  }
  Map maxPool(const Map& x, int64_t k, int64_t s, int64_t p) {
    auto& n = g_.node("MaxPool", {x.name}, x.name + ".maxpool");
    attrInts(n, "kernel_shape", {k, k});
    attrInts(n, "strides", {s, s});
    attrInts(n, "pads", {p, p, p, p});
    return {n.output(0), x.c, (x.h + 2 * p - k) / s + 1, (x.w + 2 * p - k) / s + 1};
  }
  // GlobalAveragePool + Flatten: the pooled features [N, C].
  std::string pool(const Map& x) {
    const auto& gap = g_.node("GlobalAveragePool", {x.name}, "avgpool");
    auto& flat = g_.node("Flatten", {gap.output(0)}, "features");
    attrInt(flat, "axis", 1);
    return flat.output(0);
  }

 private:
  static Map like(const Map& x, const std::string& name) { return {name, x.c, x.h, x.w}; }
  OnnxGraph& g_;
  const Modules& m_;
};

Map resnet(ImageEmitter& e, const Modules& m, Map x) {
  x = e.relu(e.conv(x, "conv1", "bn1"));
  x = e.maxPool(x, 3, 2, 1);
  for (int s = 1; s <= 4; ++s) {
    for (int b = 0;; ++b) {
      const std::string p = "layer" + std::to_string(s) + "." + std::to_string(b);
      if (!m.has(p)) break;
      const Map identity =
          m.has(p + ".downsample") ? e.conv(x, p + ".downsample.0", p + ".downsample.1") : x;
      Map y = e.relu(e.conv(x, p + ".conv1", p + ".bn1"));
      y = e.conv(y, p + ".conv2", p + ".bn2");
      if (m.has(p + ".conv3")) y = e.conv(e.relu(y), p + ".conv3", p + ".bn3");
      x = e.relu(e.add(y, identity));
    }
  }
  return x;
}

Map mobilenetV2(ImageEmitter& e, const Modules& m, Map x) {
  for (int i = 0;; ++i) {
    const std::string p = "features." + std::to_string(i);
    if (!m.has(p)) break;
    if (!m.has(p + ".conv")) {  // ConvBNReLU6
      x = e.relu6(e.conv(x, p + ".0", p + ".1"));
      continue;
    }
    // InvertedResidual: Sequential of ConvBNReLU6 blocks, then the projection conv and its BN.
    Map y = x;
    int j = 0;
    for (; m.has(p + ".conv." + std::to_string(j) + ".0"); ++j) {
      const std::string q = p + ".conv." + std::to_string(j);
      y = e.relu6(e.conv(y, q + ".0", q + ".1"));
    }
    y = e.conv(y, p + ".conv." + std::to_string(j), p + ".conv." + std::to_string(j + 1));
    x = (y.c == x.c && y.h == x.h && y.w == x.w) ? e.add(y, x) : y;
  }
  return x;
}

Map efficientNetLite(ImageEmitter& e, const Modules& m, Map x) {
  x = e.relu6(e.conv(x, "_conv_stem", "_bn0", true));
  for (int i = 0;; ++i) {
    const std::string p = "_blocks." + std::to_string(i);
    if (!m.has(p)) break;
    Map y = x;
    if (m.has(p + "._expand_conv")) y = e.relu6(e.conv(y, p + "._expand_conv", p + "._bn0", true));
    y = e.relu6(e.conv(y, p + "._depthwise_conv", p + "._bn1", true));
    y = e.conv(y, p + "._project_conv", p + "._bn2", true);
    x = (y.c == x.c && y.h == x.h && y.w == x.w) ? e.add(y, x) : y;
  }
  return e.relu6(e.conv(x, "_conv_head", "_bn1", true));
}

Map smallCnn(ImageEmitter& e, const Modules& m, Map x) {
  for (int b = 1; m.has("block" + std::to_string(b)); ++b) {
    const std::string p = "block" + std::to_string(b);
    x = e.relu(e.conv(x, p + ".0", p + ".1"));
    if (m.has(p + ".3")) x = e.maxPool(x, 2, 2, 0);
  }
  return x;
}

// The head: a Linear, or a Sequential of Linear / ReLU / Dropout (dropout is the identity here).
std::string head(OnnxGraph& g, const Modules& m, const std::string& path, std::string x) {
  auto gemm = [&](nn::LinearImpl& l, const std::string& name) {
    auto& n = g.node("Gemm",
                     {x, g.initializer(name + ".weight", l.weight.detach()),
                      g.initializer(name + ".bias", l.bias.detach())},
                     name);
    attrInt(n, "transB", 1);
    return n.output(0);
  };
  nn::Module& h = m.any(path);
  if (auto* l = h.as<nn::LinearImpl>()) return gemm(*l, path);
  if (!h.as<nn::SequentialImpl>())
    throw InvalidArgument("ONNX export: the head '" + path + "' is neither Linear nor Sequential");
  for (const auto& child : h.named_children()) {
    const std::string name = path + "." + child.key();
    if (auto* l = child.value()->as<nn::LinearImpl>()) {
      x = gemm(*l, name);
    } else if (child.value()->as<nn::ReLUImpl>()) {
      x = g.node("Relu", {x}, name).output(0);
    } else if (!child.value()->as<nn::DropoutImpl>()) {
      throw InvalidArgument("ONNX export: the head's module '" + name + "' has no ONNX form");
    }
  }
  return x;
}

json preprocessJson(const Preprocess& p) {
  return {{"input_size", p.inputSize},
          {"channels", p.channels},
          {"mean", std::vector<float>(p.mean.begin(), p.mean.begin() + p.channels)},
          {"std", std::vector<float>(p.std.begin(), p.std.begin() + p.channels)},
          {"crop_fraction", p.cropFraction},
          {"layout", "NCHW, RGB (or grey for 1 channel), float32"},
          {"resize",
           "scale the shorter side to max(input_size, round(input_size / crop_fraction)) with "
           "OpenCV (INTER_AREA when shrinking, INTER_LINEAR otherwise; each side "
           "max(input_size, round(side * scale))), centre crop input_size x input_size "
           "(offset (w - input_size) / 2 rounded down), then (x / 255 - mean) / std"}};
}

}  // namespace

bool onnxExportable(const std::string& a) {
  return a == "resnet18" || a == "resnet34" || a == "resnet50" || a == "mobilenet_v2" ||
         a == "efficientnet_lite0" || a == "small_cnn" ||
         BertConfig::fromArchitecture(a).has_value();
}

OnnxExportSummary exportOnnx(const fs::path& file, ImageClassifierImpl& net,
                             const ModelBundleInfo& info) {
  if (!onnxExportable(info.architecture)) {
    throw InvalidArgument(
        "ONNX export is not available for '" + info.architecture +
        (info.architecture == "torchscript"
             ? "': an imported TorchScript backbone is a compiled program, not one of "
               "TransferLab's own networks, so its graph cannot be written as ONNX; use the "
               "bundle's model.pt (TorchScript) instead"
             : "'"));
  }
  torch::NoGradGuard noGrad;
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("TransferLab");
  model.set_producer_version(TLAB_VERSION_STRING);
  model.set_model_version(1);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name(info.architecture);
  OnnxGraph g(graph);
  const Modules modules(net);
  const auto& p = info.preprocess;
  std::string features;
  json meta{{"modality", p.tokenizer ? "text" : "image"}, {"architecture", info.architecture}};
  if (p.tokenizer) {
    auto* bertNet = dynamic_cast<BertEncoderImpl*>(&net);
    if (!bertNet) throw InvalidArgument("ONNX export: a text model must be a BERT encoder");
    g.input("input_ids", onnx::TensorProto::INT64, {"batch", "sequence"});
    g.input("attention_mask", onnx::TensorProto::INT64, {"batch", "sequence"});
    features = emitBert(g, *bertNet, "input_ids", "attention_mask");
  } else {
    g.input("input", onnx::TensorProto::FLOAT,
            {"batch", std::to_string(p.channels), std::to_string(p.inputSize),
             std::to_string(p.inputSize)});
    ImageEmitter e(g, modules);
    Map x{"input", p.channels, p.inputSize, p.inputSize};
    const std::string& a = info.architecture;
    if (a == "mobilenet_v2") {
      x = mobilenetV2(e, modules, x);
    } else if (a == "efficientnet_lite0") {
      x = efficientNetLite(e, modules, x);
    } else if (a == "small_cnn") {
      x = smallCnn(e, modules, x);
    } else {
      x = resnet(e, modules, x);
    }
    features = e.pool(x);
  }
  const std::string logits = head(g, modules, net.headName(), features);
  auto& soft = g.node("Softmax", {logits}, "probabilities");
  attrInt(soft, "axis", 1);
  g.output(soft.output(0), "probabilities", info.classNames.size());

  auto prop = [&](const std::string& k, const std::string& v) {
    auto* e = model.add_metadata_props();
    e->set_key(k);
    e->set_value(v);
  };
  prop("transferlab.format", "1");
  prop("architecture", info.architecture);
  prop("backbone", info.backbone);
  prop("modality", meta["modality"].get<std::string>());
  prop("class_names", json(info.classNames).dump());
  if (p.tokenizer) {
    const auto& o = p.tokenizer->options();
    prop("tokenizer", json{{"kind", "wordpiece"},
                           {"lower_case", o.lowerCase},
                           {"strip_accents", o.lowerCase},
                           {"max_chars_per_word", o.maxCharsPerWord},
                           {"max_tokens", p.inputSize},
                           {"special_tokens", "[CLS] pieces [SEP], truncated to max_tokens"},
                           {"vocab", "metadata 'vocab': one token per line, id = line number"}}
                          .dump());
    prop("vocab", readTextFile(p.tokenizer->vocabFile(), 64 << 20));
  } else {
    prop("preprocess", preprocessJson(p).dump());
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error("ONNX export of " + info.architecture + " failed the ONNX checker: " + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error("ONNX export: the model could not be serialised (over 2 GB?)");
  writeFileAtomic(file, bytes);
  OnnxExportSummary s;
  s.bytes = int64_t(bytes.size());
  s.nodes = graph.node_size();
  return s;
}

}  // namespace tlab::core
