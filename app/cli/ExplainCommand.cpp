// `transferlab-cli explain`: why a fine-tuned bundle decides. Images: Grad-CAM (or Grad-CAM++,
// or an occlusion map for networks without recorded layers) written as overlay PNGs over the
// original image, with the map's peak in the image's own pixels. Texts: integrated-gradients
// attributions per word, written as JSON and as highlighted HTML.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "app/cli/CliInputs.h"
#include "core/Errors.h"
#include "core/explain/Attribution.h"
#include "core/explain/Overlay.h"
#include "core/image/ImageDecoder.h"
#include "core/runtime/Runtime.h"
#include "core/text/WordPieceTokenizer.h"
#include "core/train/ModelBundle.h"
#include "core/train/ModelInput.h"
#include "core/util/FileUtil.h"
#include "core/util/Utf8.h"
#include "core/util/VerifiedWrite.h"

namespace tlab::cli {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct ExplainArgs {
  std::string model, out, method = "gradcam", className, layer, textFile;
  std::vector<std::string> inputs, texts;
  double opacity = 0.5;
  int steps = 32;
  bool json = false;
};

std::string htmlEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

/// "k/N what, ETA" on stderr (the CLI's progress convention).
class ProgressLine {
 public:
  explicit ProgressLine(size_t total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  void step(size_t done, const std::string& what) const {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = done > 0 ? s / double(done) * double(total_ - done) : 0.0;
    std::fprintf(stderr, "explain %zu/%zu %s (ETA %.0f s)\n", done, total_, what.c_str(), eta);
  }

 private:
  size_t total_;
  std::chrono::steady_clock::time_point start_;
};

int64_t classIndexOf(const std::string& name, const std::vector<std::string>& names) {
  if (name.empty()) return -1;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return int64_t(i);
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw core::InvalidArgument("--class '" + name + "' is not one of the model's classes (" + list +
                              ")");
}

std::string nameOf(int64_t index, const std::vector<std::string>& names) {
  return index >= 0 && index < int64_t(names.size()) ? names[size_t(index)] : std::to_string(index);
}

json explainImages(const ExplainArgs& a, core::LoadedModel& m, const fs::path& out, bool& failed) {
  auto& net = *m.net;
  const auto& pre = m.info.preprocess;
  const int64_t wanted = classIndexOf(a.className, m.info.classNames);
  auto method = core::parseCamMethod(a.method);
  const auto layers = core::camLayers(net, pre.inputSize, pre.channels);
  std::string layer = a.layer;
  if (method != core::CamMethod::Occlusion) {
    if (layers.empty()) {
      throw core::InvalidArgument(
          "this network has no layers Grad-CAM can explain (an imported "
          "TorchScript backbone): use --method occlusion");
    }
    if (layer.empty()) layer = layers.back();
    if (std::find(layers.begin(), layers.end(), layer) == layers.end()) {
      std::string list;
      for (const auto& l : layers) list += (list.empty() ? "" : ", ") + l;
      throw core::InvalidArgument("--layer '" + layer + "' is not a convolutional layer of " +
                                  m.info.architecture + " (choose one of: " + list + ")");
    }
  }
  const auto files = expandImageInputs(a.inputs);
  ProgressLine progress(files.size());
  json items = json::array();
  size_t index = 0;
  for (const auto& path : files) {
    ++index;
    json r{{"path", path}};
    const auto img = core::decodeImageFile(path);
    if (!img.ok()) {
      r["error"] = img.error;
      failed = true;
      items.push_back(r);
      progress.step(index, path + ": " + img.error);
      continue;
    }
    const auto x = core::imageInput(img.pixels, pre);
    const core::ClassMap map = method == core::CamMethod::Occlusion
                                   ? core::occlusionMap(net, x, wanted)
                                   : core::gradCam(net, x, {wanted}, layer, method)[0];
    r["class"] = nameOf(map.classIndex, m.info.classNames);
    r["class_index"] = map.classIndex;
    r["predicted"] = nameOf(map.predicted, m.info.classNames);
    r["probability"] = map.probabilities[size_t(map.classIndex)];
    r["method"] = core::camMethodName(method);
    r["layer"] = map.layer;
    r["image_size"] = {img.pixels.cols, img.pixels.rows};
    if (const auto peak = map.peak()) {
      const auto [px, py] = core::inputToImagePixel(*peak, img.pixels.cols, img.pixels.rows, pre);
      r["peak"] = {px, py};
    } else {
      r["peak"] = nullptr;  // no evidence for this class anywhere in the image
    }
    char name[32];
    std::snprintf(name, sizeof name, "%04zu-", index);
    const std::string file = name + fs::path(path).stem().string() + ".png";
    cv::Mat overlay = core::overlayHeatmap(img.pixels, map.map, pre, a.opacity), bgr;
    cv::cvtColor(overlay, bgr, cv::COLOR_RGB2BGR);
    std::vector<uchar> png;
    if (!cv::imencode(".png", bgr, png))
      throw core::IoError((out / file).string(), "PNG encoding failed");
    core::writeFileVerified(out / file, std::string(png.begin(), png.end()));
    r["overlay"] = file;
    items.push_back(r);
    progress.step(index, path + ": " + r["class"].get<std::string>());
  }
  return items;
}

json explainTexts(const ExplainArgs& a, core::LoadedModel& m, const fs::path& out, bool& failed) {
  const auto& pre = m.info.preprocess;
  const int64_t wanted = classIndexOf(a.className, m.info.classNames);
  std::vector<std::string> texts = a.texts;
  if (!a.textFile.empty()) {
    for (auto& l : nonBlankLines(a.textFile)) texts.push_back(std::move(l.text));
  }
  ProgressLine progress(texts.size());
  json items = json::array();
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Token attributions</title>"
      "</head><body style=\"font-family:sans-serif\">\n";
  size_t index = 0;
  for (const auto& text : texts) {
    ++index;
    json r{{"text", core::isValidUtf8(text) ? text : std::string()}};
    if (!core::isValidUtf8(text)) {
      r["error"] = "invalid UTF-8 text";
      failed = true;
      items.push_back(r);
      continue;
    }
    const auto attr = core::integratedGradients(*m.net, *pre.tokenizer, text, size_t(pre.inputSize),
                                                wanted, a.steps);
    r["class"] = nameOf(attr.classIndex, m.info.classNames);
    r["class_index"] = attr.classIndex;
    r["predicted"] = nameOf(attr.predicted, m.info.classNames);
    r["probability"] = attr.probabilities[size_t(attr.classIndex)];
    r["method"] = "integrated-gradients";
    json words = json::array();
    double peak = 1e-12;
    for (const auto& w : attr.words) peak = std::max(peak, std::abs(w.score));
    html += "<p><b>" + htmlEscape(r["class"].get<std::string>()) + "</b>: ";
    for (const auto& w : attr.words) {
      words.push_back({{"word", w.word}, {"score", w.score}});
      const double s = w.score / peak;  // green for the class, red against it
      const int alpha = int(std::lround(std::abs(s) * 100));
      html += "<span title=\"" + std::to_string(w.score) + "\" style=\"background:rgba(" +
              (s >= 0 ? "0,160,0," : "220,0,0,") + std::to_string(alpha / 100.0) + ")\">" +
              htmlEscape(w.word) + "</span> ";
    }
    html += "</p>\n";
    r["words"] = words;
    const int top = attr.topWord();
    r["top_word"] = top >= 0 ? json(attr.words[size_t(top)].word) : json(nullptr);
    if (attr.truncated) r["truncated"] = true;
    items.push_back(r);
    progress.step(index, r["class"].get<std::string>() + ", top word " +
                             (top >= 0 ? attr.words[size_t(top)].word : std::string("-")));
  }
  html += "</body></html>\n";
  core::writeFileVerified(out / "attributions.html", html);
  return items;
}

void explain(const ExplainArgs& a, int& exitCode) {
  core::configureRuntime({0, false});
  core::LoadedModel m = core::loadModelBundle(a.model);
  m.net->to(core::preferredDevice());
  const bool text = bool(m.info.preprocess.tokenizer);
  if (text && !a.inputs.empty())
    throw core::InvalidArgument("this is a text model: give --text or --text-file, not images");
  if (!text && (!a.texts.empty() || !a.textFile.empty()))
    throw core::InvalidArgument("this is an image model: give image files or folders");
  if (a.inputs.empty() && a.texts.empty() && a.textFile.empty())
    throw core::InvalidArgument("nothing to explain: give images, --text or --text-file");
  const fs::path out = a.out;
  fs::create_directories(out);
  bool failed = false;
  json items = text ? explainTexts(a, m, out, failed) : explainImages(a, m, out, failed);
  const json report{{"model", a.model},
                    {"architecture", m.info.architecture},
                    {"classes", m.info.classNames},
                    {"items", items}};
  core::writeFileVerified(out / "explain.json", report.dump(2) + "\n");
  if (a.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    for (const auto& r : items) {
      const std::string what =
          r.contains("path") ? r["path"].get<std::string>() : r["text"].get<std::string>();
      if (r.contains("error")) {
        std::cout << what << ": error: " << r["error"].get<std::string>() << "\n";
      } else if (r.contains("peak")) {
        std::cout << what << ": " << r["class"].get<std::string>() << " ("
                  << r["probability"].get<double>() << "), peak "
                  << (r["peak"].is_null() ? std::string("none") : r["peak"].dump()) << " -> "
                  << (out / r["overlay"].get<std::string>()).string() << "\n";
      } else {
        std::cout << r["class"].get<std::string>() << ": top word "
                  << (r["top_word"].is_null() ? std::string("-") : r["top_word"].get<std::string>())
                  << "\n";
      }
    }
    std::cout << "wrote " << (out / "explain.json").string() << "\n";
  }
  exitCode = failed ? 2 : 0;
}

}  // namespace

void addExplainCommand(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<ExplainArgs>();
  auto* cmd = app.add_subcommand(
      "explain",
      "Show why a model decides: Grad-CAM overlays for images, word attributions for texts");
  cmd->add_option("--model", a->model, "A fine-tuned model bundle (RUN/model)")->required();
  cmd->add_option("inputs", a->inputs, "Images or folders of images");
  cmd->add_option("--text", a->texts, "A text to explain (text models; repeatable)");
  cmd->add_option("--text-file", a->textFile, "Texts to explain, one per line");
  cmd->add_option("--out", a->out, "Folder for the overlay PNGs and explain.json")->required();
  cmd->add_option("--method", a->method, "gradcam, gradcam++ or occlusion (images)")
      ->capture_default_str();
  cmd->add_option("--class", a->className, "Explain this class (default: the predicted one)");
  cmd->add_option("--layer", a->layer, "Module path to explain (default: the last conv stage)");
  cmd->add_option("--opacity", a->opacity, "Overlay opacity, 0..1")->capture_default_str();
  cmd->add_option("--steps", a->steps, "Integrated-gradients steps (texts)")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print the report as JSON");
  cmd->callback([a, &exitCode] { explain(*a, exitCode); });
}

}  // namespace tlab::cli
