#include "core/explain/Attribution.h"

#include <algorithm>
#include <cmath>

#include "core/Errors.h"
#include "core/model/ImageClassifier.h"
#include "core/text/WordPieceTokenizer.h"

namespace tlab::core {
namespace {

/// Puts the network in eval mode and clears its tap on every exit path.
class EvalScope {
 public:
  explicit EvalScope(ImageClassifierImpl& net) : net_(net), wasTraining_(net.is_training()) {
    net_.eval();
  }
  ~EvalScope() {
    net_.setForwardTap(nullptr);
    if (wasTraining_) net_.train(true);
  }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  ImageClassifierImpl& net_;
  bool wasTraining_;
};

/// Rescales each map of [N, H, W] to max 1 (all-zero maps stay zero).
torch::Tensor normaliseMaps(torch::Tensor maps) {
  const auto peak = std::get<0>(maps.flatten(1).max(1)).view({-1, 1, 1});
  return torch::where(peak > 0, maps / peak.clamp_min(1e-30), torch::zeros_like(maps));
}

std::vector<float> toVector(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat).contiguous().cpu();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

std::string camMethodName(CamMethod method) {
  switch (method) {
    case CamMethod::GradCam:
      return "gradcam";
    case CamMethod::GradCamPlusPlus:
      return "gradcam++";
    case CamMethod::Occlusion:
      return "occlusion";
  }
  return "gradcam";
}

CamMethod parseCamMethod(const std::string& name) {
  for (auto m : {CamMethod::GradCam, CamMethod::GradCamPlusPlus, CamMethod::Occlusion}) {
    if (name == camMethodName(m)) return m;
  }
  throw InvalidArgument("unknown explanation method '" + name +
                        "' (use gradcam, gradcam++ or occlusion)");
}

namespace {

/// The vertex of the parabola through (-1, l), (0, c), (1, r) where c is the largest: an offset
/// in [-0.5, 0.5] towards the stronger neighbour (0 when the three are level).
double parabolaVertex(double l, double c, double r) {
  const double curvature = l - 2 * c + r;
  if (!(curvature < 0)) return 0;
  return std::clamp(0.5 * (l - r) / curvature, -0.5, 0.5);
}

/// peak() of a Grad-CAM map from its cells (see ClassMap::peak).
std::optional<std::pair<int, int>> cellPeak(const torch::Tensor& cells, int64_t outH,
                                            int64_t outW) {
  const auto c = cells.to(torch::kFloat).contiguous();
  const int64_t h = c.size(0), w = c.size(1);
  const float* v = c.data_ptr<float>();
  const int64_t best = c.flatten().argmax().item<int64_t>();
  if (!(v[best] > 0)) return std::nullopt;
  const int64_t cy = best / w, cx = best % w;
  const auto at = [&](int64_t y, int64_t x) -> double {
    return y < 0 || y >= h || x < 0 || x >= w ? 0.0 : double(v[y * w + x]);
  };
  const double top = v[best];
  const double dx = parabolaVertex(at(cy, cx - 1), top, at(cy, cx + 1));
  const double dy = parabolaVertex(at(cy - 1, cx), top, at(cy + 1, cx));
  // Cell centre i of h cells lies at input pixel (i + 0.5) * H / h - 0.5 (the bilinear
  // upsampling's own alignment, align_corners = false).
  const auto toPixel = [](double cell, int64_t cellsN, int64_t pixels) {
    const double p = (cell + 0.5) * double(pixels) / double(cellsN) - 0.5;
    return int(std::lround(std::clamp(p, 0.0, double(pixels - 1))));
  };
  return std::make_pair(toPixel(double(cx) + dx, w, outW), toPixel(double(cy) + dy, h, outH));
}

}  // namespace

std::optional<std::pair<int, int>> ClassMap::peak() const {
  if (!map.defined() || map.numel() == 0) return std::nullopt;
  if (cells.defined() && cells.dim() == 2 && map.dim() == 2 && cells.numel() > 0) {
    return cellPeak(cells, map.size(0), map.size(1));
  }
  const auto m = map.to(torch::kFloat).contiguous();
  const float top = m.max().item<float>();
  if (!(top > 0)) return std::nullopt;
  // The maximum of an upsampled map is often a plateau (bilinear upsampling holds the border
  // cells' values constant out to the image edge): its first pixel would sit in a corner of
  // the plateau. The peak is the plateau's pixel nearest to the plateau's centroid.
  const int64_t h = m.size(0), w = m.size(1);
  const float* v = m.data_ptr<float>();
  const float level = top * (1.0f - 1e-5f);
  double sx = 0, sy = 0;
  int64_t count = 0;
  for (int64_t i = 0; i < h * w; ++i) {
    if (v[i] >= level) sx += double(i % w), sy += double(i / w), ++count;
  }
  const double cx = sx / double(count), cy = sy / double(count);
  int64_t best = -1;
  double bestD = 0;
  for (int64_t i = 0; i < h * w; ++i) {
    if (v[i] < level) continue;
    const double dx = double(i % w) - cx, dy = double(i / w) - cy, d = dx * dx + dy * dy;
    if (best < 0 || d < bestD) best = i, bestD = d;
  }
  return std::make_pair(int(best % w), int(best / w));
}

int TextAttribution::topWord() const {
  if (words.empty()) return -1;
  const auto it = std::max_element(words.begin(), words.end(),
                                   [](const auto& a, const auto& b) { return a.score < b.score; });
  return int(it - words.begin());
}

std::vector<std::string> camLayers(ImageClassifierImpl& net, int inputSize, int channels) {
  EvalScope scope(net);
  torch::NoGradGuard noGrad;
  std::vector<std::string> layers;
  const ForwardTap tap = [&](const std::string& path, torch::Tensor x) {
    if (x.dim() == 4 && x.size(2) > 1 && x.size(3) > 1 &&
        std::find(layers.begin(), layers.end(), path) == layers.end()) {
      layers.push_back(path);
    }
    return x;
  };
  net.setForwardTap(&tap);
  auto input = net.exampleInput(inputSize, channels).to(deviceOf(net));
  if (input.dim() != 4) return {};  // text
  net.forward(input);
  return layers;
}

std::string defaultCamLayer(ImageClassifierImpl& net, int inputSize, int channels) {
  const auto layers = camLayers(net, inputSize, channels);
  return layers.empty() ? std::string() : layers.back();
}

std::vector<ClassMap> gradCam(ImageClassifierImpl& net, const torch::Tensor& input,
                              const std::vector<int64_t>& classes, const std::string& layer,
                              CamMethod method) {
  if (method == CamMethod::Occlusion) {
    throw InvalidArgument("gradCam: use occlusionMap for the occlusion method");
  }
  if (input.dim() != 4) throw InvalidArgument("gradCam: expected images [N, C, H, W]");
  const int64_t n = input.size(0);
  if (!classes.empty() && int64_t(classes.size()) != n) {
    throw InvalidArgument("gradCam: one class per image (or none)");
  }
  EvalScope scope(net);
  // Nothing before the target layer needs a graph: gradients start at its output, which the
  // tap turns into a leaf (so frozen parameters and inputs without gradients work alike).
  torch::Tensor activation;
  const ForwardTap tap = [&](const std::string& path, torch::Tensor x) {
    if (path != layer || activation.defined()) return x;
    if (x.dim() != 4) {
      throw InvalidArgument("layer '" + layer + "' has no spatial output (shape " +
                            c10::str(x.sizes()) + "); pick a convolutional layer");
    }
    activation = x.detach().requires_grad_(true);
    torch::GradMode::set_enabled(true);
    return activation;
  };
  net.setForwardTap(&tap);
  torch::Tensor logits;
  {
    torch::NoGradGuard noGrad;  // restores the grad mode the tap switched on
    logits = net.forward(input.to(deviceOf(net)));
  }
  net.setForwardTap(nullptr);
  if (!activation.defined()) {
    throw InvalidArgument("layer '" + layer + "' is not a layer this network can explain");
  }
  const auto probs = torch::softmax(logits.detach().to(torch::kFloat), 1).cpu();
  const auto predicted = probs.argmax(1);
  auto target = predicted.clone();
  for (int64_t i = 0; i < int64_t(classes.size()); ++i) {
    if (classes[i] >= logits.size(1)) {
      throw InvalidArgument("class " + std::to_string(classes[i]) + " is out of range (" +
                            std::to_string(logits.size(1)) + " classes)");
    }
    if (classes[i] >= 0) target[i] = classes[i];
  }
  // Each image's score depends only on its own activation (eval mode), so one backward pass
  // over the sum gives every image's gradient.
  const auto score = logits.gather(1, target.to(logits.device()).view({-1, 1})).sum();
  const auto grads = torch::autograd::grad({score}, {activation})[0].detach().to(torch::kFloat);
  const auto act = activation.detach().to(torch::kFloat);
  torch::Tensor weights;
  if (method == CamMethod::GradCam) {
    weights = grads.mean({2, 3});
  } else {  // Grad-CAM++ (Chattopadhay et al. 2018), with the score's gradients
    const auto g2 = grads.pow(2), g3 = grads.pow(3);
    const auto sumA = act.sum({2, 3}, true);
    const auto alpha = g2 / (2 * g2 + sumA * g3 + 1e-7);
    weights =
        (torch::where(grads != 0, alpha, torch::zeros_like(alpha)) * grads.relu()).sum({2, 3});
  }
  auto cams = (weights.unsqueeze(-1).unsqueeze(-1) * act).sum(1, true).relu();
  const auto cells = normaliseMaps(cams.squeeze(1).cpu());
  cams = torch::nn::functional::interpolate(
             cams, torch::nn::functional::InterpolateFuncOptions()
                       .size(std::vector<int64_t>{input.size(2), input.size(3)})
                       .mode(torch::kBilinear)
                       .align_corners(false))
             .squeeze(1)
             .cpu();
  cams = normaliseMaps(cams);
  std::vector<ClassMap> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    out[i].map = cams[i].contiguous();
    out[i].cells = cells[i].contiguous();
    out[i].classIndex = target[i].item<int64_t>();
    out[i].predicted = predicted[i].item<int64_t>();
    out[i].probabilities = toVector(probs[i]);
    out[i].layer = layer;
  }
  return out;
}

ClassMap occlusionMap(ImageClassifierImpl& net, const torch::Tensor& input, int64_t classIndex,
                      const OcclusionOptions& options) {
  if (input.dim() != 4 || input.size(0) != 1) {
    throw InvalidArgument("occlusionMap: expected one image [1, C, H, W]");
  }
  EvalScope scope(net);
  torch::NoGradGuard noGrad;
  const auto device = deviceOf(net);
  const auto x = input.to(device);
  const int h = int(x.size(2)), w = int(x.size(3));
  const int patch = std::max(1, options.patch > 0 ? options.patch : std::max(h, w) / 7);
  const int stride = std::max(1, options.stride > 0 ? options.stride : patch / 2);
  const auto base = torch::softmax(net.forward(x).to(torch::kFloat), 1).cpu()[0];
  ClassMap out;
  out.probabilities = toVector(base);
  out.predicted = base.argmax().item<int64_t>();
  out.classIndex = classIndex >= 0 ? classIndex : out.predicted;
  if (out.classIndex >= base.size(0)) throw InvalidArgument("occlusionMap: class out of range");
  out.layer = "input";
  const float baseProb = base[out.classIndex].item<float>();

  std::vector<std::pair<int, int>> places;  // top-left corners, covering the whole image
  for (int y = 0;; y += stride) {
    const int yy = std::min(y, std::max(0, h - patch));
    for (int x0 = 0;; x0 += stride) {
      places.emplace_back(std::min(x0, std::max(0, w - patch)), yy);
      if (x0 + patch >= w) break;
    }
    if (y + patch >= h) break;
  }
  auto sum = torch::zeros({h, w}), count = torch::zeros({h, w});
  const int total = int(places.size()), batch = std::max(1, options.batch);
  for (int start = 0; start < total; start += batch) {
    throwIfCancelled(options.cancel);
    const int m = std::min(batch, total - start);
    auto copies = x.repeat({m, 1, 1, 1});
    for (int k = 0; k < m; ++k) {
      const auto [px, py] = places[size_t(start + k)];
      copies[k]
          .narrow(1, py, std::min(patch, h - py))
          .narrow(2, px, std::min(patch, w - px))
          .zero_();
    }
    const auto probs = torch::softmax(net.forward(copies).to(torch::kFloat), 1).cpu();
    for (int k = 0; k < m; ++k) {
      const auto [px, py] = places[size_t(start + k)];
      const float drop = baseProb - probs[k][out.classIndex].item<float>();
      const int ph = std::min(patch, h - py), pw = std::min(patch, w - px);
      sum.narrow(0, py, ph).narrow(1, px, pw).add_(drop);
      count.narrow(0, py, ph).narrow(1, px, pw).add_(1);
    }
    if (options.progress) options.progress(start + m, total);
  }
  out.map = normaliseMaps((sum / count.clamp_min(1)).relu().unsqueeze(0))[0].contiguous();
  return out;
}

TextAttribution integratedGradients(ImageClassifierImpl& net, const WordPieceTokenizer& tokenizer,
                                    std::string_view text, size_t maxTokens, int64_t classIndex,
                                    int steps) {
  steps = std::max(1, steps);
  const auto encoded = tokenizer.encode(text, maxTokens);
  const int64_t len = int64_t(encoded.ids.size());
  auto tokens = torch::ones({1, 2, len}, torch::kInt64);
  tokens[0][0].copy_(torch::tensor(encoded.ids, torch::kInt64));
  EvalScope scope(net);
  const auto device = deviceOf(net);

  TextAttribution out;
  out.truncated = encoded.truncated;
  {
    torch::NoGradGuard noGrad;
    const auto probs = torch::softmax(net.forward(tokens.to(device)).to(torch::kFloat), 1).cpu()[0];
    out.probabilities = toVector(probs);
    out.predicted = probs.argmax().item<int64_t>();
  }
  out.classIndex = classIndex >= 0 ? classIndex : out.predicted;
  if (out.classIndex >= int64_t(out.probabilities.size())) {
    throw InvalidArgument("class " + std::to_string(classIndex) + " is out of range");
  }
  // Baseline: the same positions with every word replaced by [PAD] ([CLS] and [SEP] kept), so
  // attributions measure what the words themselves add, not their positions. The embedding
  // layer's output e is replaced by b + alpha_k (e - b) for the midpoints alpha_k of [0, 1];
  // the attributions are (e - b) * mean_k(d score / d input_k), summed over the hidden size.
  torch::Tensor baseline;
  {
    auto padded = tokens.clone();
    padded[0][0].narrow(0, 1, std::max<int64_t>(0, len - 2)).fill_(tokenizer.padId());
    const ForwardTap keep = [&](const std::string& path, torch::Tensor x) {
      if (path == "embeddings" && !baseline.defined()) baseline = x.detach();
      return x;
    };
    net.setForwardTap(&keep);
    torch::NoGradGuard noGrad;
    net.forward(padded.to(device));
    net.setForwardTap(nullptr);
  }
  if (!baseline.defined()) {
    throw InvalidArgument("token attributions need a BERT text encoder (no 'embeddings' layer)");
  }
  const auto alphas =
      (torch::arange(steps, torch::kFloat) + 0.5f).div_(float(steps)).to(device).view({-1, 1, 1});
  torch::Tensor embedding, scaled;
  const ForwardTap tap = [&](const std::string& path, torch::Tensor x) {
    if (path != "embeddings" || scaled.defined()) return x;
    embedding = x.detach();
    const auto b = baseline.to(x.dtype());
    scaled = (b + alphas.to(x.dtype()) * (embedding - b)).requires_grad_(true);
    torch::GradMode::set_enabled(true);
    return scaled;
  };
  net.setForwardTap(&tap);
  torch::Tensor logits;
  {
    torch::NoGradGuard noGrad;
    logits = net.forward(tokens.repeat({steps, 1, 1}).to(device));
  }
  net.setForwardTap(nullptr);
  const auto score = logits.select(1, out.classIndex).sum();
  const auto grads = torch::autograd::grad({score}, {scaled})[0].detach().to(torch::kFloat);
  const auto attribution = ((embedding[0] - baseline[0]).to(torch::kFloat) * grads.mean(0))
                               .sum(-1)
                               .cpu()
                               .contiguous();  // [L]

  // Positions 1 .. L-2 are the pieces ([CLS] first, [SEP] last).
  for (int64_t i = 1; i + 1 < len; ++i) {
    out.pieces.push_back(tokenizer.token(encoded.ids[size_t(i)]));
    out.pieceScores.push_back(attribution[i].item<float>());
  }
  for (size_t i = 0; i < out.pieces.size(); ++i) {
    const auto& p = out.pieces[i];
    if (p.rfind("##", 0) == 0 && !out.words.empty()) {
      out.words.back().word += p.substr(2);
      out.words.back().score += out.pieceScores[i];
    } else {
      out.words.push_back({p, out.pieceScores[i]});
    }
  }
  return out;
}

}  // namespace tlab::core
