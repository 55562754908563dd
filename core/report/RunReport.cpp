#include "core/report/RunReport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/report/PdfWriter.h"
#include "core/util/Clock.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"
#include "core/util/Utf8.h"
#include "core/util/VerifiedWrite.h"

#ifndef TLAB_VERSION_STRING
#define TLAB_VERSION_STRING "unknown"
#endif

namespace tlab::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr uint64_t kMaxJsonBytes = 64ull << 20;
constexpr uint64_t kMaxThumbnailBytes = 1ull << 20;
constexpr size_t kMaxMistakes = 50;
constexpr size_t kMaxClasses = 10000;
constexpr size_t kMaxDrawnClasses = 30;  ///< larger confusion matrices: see the CSV

// ---------------------------------------------------------------- reading a run folder

std::string scalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return buf;
  }
  std::string s = v.dump();
  return s.size() > 160 ? s.substr(0, 157) + "..." : s;
}

std::vector<std::pair<std::string, std::string>> keyValues(const json& j) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : j.items()) out.emplace_back(k, scalarText(v));
  return out;
}

ReportEvaluation evaluationFrom(const json& j, const std::string& split) {
  ReportEvaluation e;
  e.split = split;
  e.accuracy = j.at("accuracy").get<double>();
  e.macroF1 = j.at("macro_f1").get<double>();
  e.loss = j.value("loss", 0.0);
  e.count = j.value("count", int64_t(0));
  e.classNames = j.at("classes").get<std::vector<std::string>>();
  const size_t n = e.classNames.size();
  if (n == 0 || n > kMaxClasses)
    throw std::runtime_error(split + ".classes has " + std::to_string(n) + " entries");
  for (const auto& c : j.at("per_class")) {
    ClassMetrics m;
    m.name = c.at("name").get<std::string>();
    m.precision = c.at("precision").get<double>();
    m.recall = c.at("recall").get<double>();
    m.f1 = c.at("f1").get<double>();
    m.support = c.at("support").get<int64_t>();
    e.perClass.push_back(m);
  }
  e.confusion = j.at("confusion_matrix").get<std::vector<std::vector<int64_t>>>();
  if (e.confusion.size() != n)
    throw std::runtime_error(split + ".confusion_matrix has " + std::to_string(e.confusion.size()) +
                             " rows for " + std::to_string(n) + " classes");
  for (const auto& row : e.confusion) {
    if (row.size() != n)
      throw std::runtime_error(split + ".confusion_matrix has a row of " +
                               std::to_string(row.size()) + " for " + std::to_string(n) +
                               " classes");
    for (int64_t v : row)
      if (v < 0) throw std::runtime_error(split + ".confusion_matrix has a negative count");
  }
  return e;
}

// Runs `parse` on the JSON file `name` in `dir` when it exists; false when it does not.
template <typename F>
bool readOptional(const fs::path& dir, const std::string& name, F parse, ReportRun& run) {
  const fs::path file = dir / name;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    run.notes.push_back(name + " is not in the run folder");
    return false;
  }
  // Not readJsonFile: history.json is an array. Size and nesting are capped the same way.
  const std::string text = readTextFile(file, kMaxJsonBytes);
  if (jsonNestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth)
    throw FormatError(file.string(), "nests deeper than " + std::to_string(kMaxJsonDepth) +
                                         " levels (refused before parsing)");
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw FormatError(file.string(), "is not valid JSON");
  try {
    parse(j);
  } catch (const json::exception& e) {
    throw FormatError(file.string(), e.what());
  } catch (const std::runtime_error& e) {
    throw FormatError(file.string(), e.what());
  }
  return true;
}

bool isPlainThumbnailName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

ReportRun readRunFolder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError(dir.string(), "is not a run folder");
  ReportRun run;
  run.folder = dir;
  run.name = fs::absolute(dir).lexically_normal().filename().string();
  if (run.name.empty())
    run.name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  if (!isValidUtf8(run.name)) run.name = "run";
  const auto required = [&](const std::string& name) {
    if (!fs::exists(dir / name, ec))
      throw IoError((dir / name).string(),
                    "missing: not a TransferLab run folder, or the run has not ended yet");
  };
  required("config.json");
  required("history.json");
  readOptional(
      dir, "config.json",
      [&](const json& j) {
        if (!j.is_object()) throw std::runtime_error("is not a JSON object");
        run.settings = keyValues(j);
      },
      run);
  readOptional(
      dir, "history.json",
      [&](const json& j) {
        for (const auto& e : j) {  // lenient: files from older versions lack a few keys
          EpochMetrics m;
          m.epoch = e.at("epoch").get<int>();
          m.phase = e.value("phase", std::string());
          m.trainLoss = e.at("train_loss").get<double>();
          m.trainAccuracy = e.at("train_accuracy").get<double>();
          m.valLoss = e.at("val_loss").get<double>();
          m.valAccuracy = e.at("val_accuracy").get<double>();
          m.learningRate = e.value("lr", 0.0);
          m.seconds = e.value("seconds", 0.0);
          run.history.push_back(m);
        }
      },
      run);
  readOptional(
      dir, "metrics.json",
      [&](const json& j) {
        run.bestEpoch = j.value("best_epoch", 0);
        run.seconds = j.value("seconds", 0.0);
        run.state = j.value("state", std::string());
        if (j.contains("val")) run.val = evaluationFrom(j.at("val"), "val");
        if (j.contains("test")) run.test = evaluationFrom(j.at("test"), "test");
      },
      run);
  readOptional(
      dir, "dataset.json",
      [&](const json& j) {
        ReportDataset& d = run.dataset;
        d.source = j.at("source").get<std::string>();
        d.format = j.value("format", std::string());
        d.modality = j.value("modality", std::string("image"));
        d.classes = j.at("classes").get<std::vector<std::string>>();
        if (d.classes.size() > kMaxClasses) throw std::runtime_error("too many classes");
        const json& c = j.at("counts");
        d.train = c.at("train").get<std::vector<int64_t>>();
        d.val = c.at("val").get<std::vector<int64_t>>();
        d.test = c.at("test").get<std::vector<int64_t>>();
        for (const auto* v : {&d.train, &d.val, &d.test})
          if (v->size() != d.classes.size())
            throw std::runtime_error("counts do not have one entry per class");
        d.skipped = j.value("skipped", int64_t(0));
        d.known = true;
      },
      run);
  readOptional(
      dir, "environment.json",
      [&](const json& j) {
        if (!j.is_object()) throw std::runtime_error("is not a JSON object");
        run.environment = keyValues(j);
      },
      run);
  readOptional(
      dir, "mistakes.json",
      [&](const json& j) {
        run.mistakesSplit = j.value("split", std::string());
        for (const auto& m : j.at("mistakes")) {
          if (run.mistakes.size() >= kMaxMistakes) break;
          ReportMistake r;
          r.sample = m.at("sample").get<size_t>();
          r.where = m.value("where", std::string());
          r.trueLabel = m.at("true").get<std::string>();
          r.predicted = m.at("predicted").get<std::string>();
          r.probability = m.at("probability").get<double>();
          r.trueProbability = m.value("true_probability", 0.0);
          r.text = m.value("text", std::string());
          const std::string thumb = m.value("thumbnail", std::string());
          if (!thumb.empty()) {
            // Only a plain file name inside mistakes/: the report never reads elsewhere.
            if (!isPlainThumbnailName(thumb))
              throw std::runtime_error("thumbnail '" + thumb + "' is not a plain file name");
            const fs::path file = dir / "mistakes" / thumb;
            try {
              const auto bytes = readFileBytes(file, kMaxThumbnailBytes);
              r.thumbnailJpeg.assign(bytes.begin(), bytes.end());
              PdfDocument probe;
              (void)probe.addJpeg(r.thumbnailJpeg);  // a JPEG whose size can be read, or none
            } catch (const Error& e) {
              run.notes.push_back(std::string("thumbnail left out: ") + e.what());
              r.thumbnailJpeg.clear();
            }
          }
          run.mistakes.push_back(std::move(r));
        }
      },
      run);
  return run;
}

namespace {

// ---------------------------------------------------------------- shared pieces

std::string fmt(double v, int decimals = 3) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string duration(double seconds) {
  if (seconds < 90) return fmt(seconds, 1) + " s";
  return fmt(seconds / 60.0, 1) + " min";
}

std::string today() { return utcNow("%Y-%m-%d %H:%M UTC"); }

std::string setting(const ReportRun& r, const std::string& key) {
  for (const auto& [k, v] : r.settings)
    if (k == key) return v;
  return "-";
}

std::string accuracyText(const std::optional<ReportEvaluation>& e) {
  return e ? fmt(e->accuracy) : "-";
}

std::string reportTitle(const std::vector<ReportRun>& runs, const std::string& title) {
  if (!title.empty()) return title;
  return runs.size() == 1 ? "Run report: " + runs.front().name
                          : "Comparison of " + std::to_string(runs.size()) + " runs";
}

// A run's summary, as both formats show it.
std::vector<std::pair<std::string, std::string>> runSummary(const ReportRun& r) {
  std::vector<std::pair<std::string, std::string>> summary{
      {"state", r.state.empty() ? "-" : r.state},   {"epochs", std::to_string(r.history.size())},
      {"best epoch", std::to_string(r.bestEpoch)},  {"training time", duration(r.seconds)},
      {"validation accuracy", accuracyText(r.val)}, {"test accuracy", accuracyText(r.test)}};
  if (const auto* f = r.final()) summary.emplace_back(f->split + " macro-F1", fmt(f->macroF1));
  return summary;
}

// A run's row of the comparison table: run, backbone, strategy, epochs, val and test accuracy,
// test macro-F1, time.
std::vector<std::string> comparisonRow(const ReportRun& r) {
  return {r.name,
          setting(r, "backbone"),
          setting(r, "strategy"),
          std::to_string(r.history.size()),
          accuracyText(r.val),
          accuracyText(r.test),
          r.test ? fmt(r.test->macroF1) : "-",
          duration(r.seconds)};
}

// Eight distinguishable line colours (the Okabe-Ito palette plus grey).
constexpr PdfColor kPalette[] = {{0.00, 0.45, 0.70}, {0.90, 0.62, 0.00}, {0.00, 0.62, 0.45},
                                 {0.80, 0.47, 0.65}, {0.34, 0.71, 0.91}, {0.84, 0.37, 0.00},
                                 {0.94, 0.89, 0.26}, {0.40, 0.40, 0.40}};
PdfColor paletteColor(size_t i) { return kPalette[i % (sizeof kPalette / sizeof kPalette[0])]; }
std::string cssColor(PdfColor c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(c.r * 255 + 0.5), int(c.g * 255 + 0.5),
                int(c.b * 255 + 0.5));
  return buf;
}

// A line chart's content and its geometry, computed once for SVG and PDF alike.
struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  ///< (epoch, value)
  PdfColor color;
  bool dashed = false;
};
struct Chart {
  std::string title;
  std::vector<Series> series;
};
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  int decimals = 0;
};

Axis niceAxis(double lo, double hi, int target, double minStep = 0) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = std::max((hi - lo) / target, minStep);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag < 1.5   ? mag
                      : raw / mag < 3.5 ? 2 * mag
                      : raw / mag < 7.5 ? 5 * mag
                                        : 10 * mag;
  Axis a;
  a.lo = std::floor(lo / step) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) a.ticks.push_back(t);
  a.decimals = step >= 1 ? 0 : int(std::ceil(-std::log10(step)));
  return a;
}

struct ChartFrame {
  double x, y, w, h;      ///< the whole chart box
  double px, py, pw, ph;  ///< the plot area inside it
  Axis xa, ya;
  double mapX(double v) const { return px + (v - xa.lo) / (xa.hi - xa.lo) * pw; }
  double mapY(double v) const { return py + ph - (v - ya.lo) / (ya.hi - ya.lo) * ph; }
};

ChartFrame frameFor(const Chart& c, double x, double y, double w, double h) {
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (const auto& s : c.series)
    for (const auto& [px, py] : s.points) {
      if (!std::isfinite(px) || !std::isfinite(py)) continue;
      xmin = std::min(xmin, px), xmax = std::max(xmax, px);
      ymin = std::min(ymin, py), ymax = std::max(ymax, py);
    }
  if (xmin > xmax) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  ChartFrame f{x, y, w, h, x + 44, y + 22, w - 54, h - 62, {}, {}};
  f.xa = niceAxis(std::min(xmin, 1.0), std::max(xmax, xmin + 1), 6, 1.0);  // whole epochs
  f.ya = niceAxis(std::min(ymin, ymax), ymax, 4);
  return f;
}

// ---------------------------------------------------------------- HTML

std::string esc(const std::string& raw) {
  const std::string s = isValidUtf8(raw) ? raw : std::string("(not valid UTF-8)");
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= uint8_t(in[i + 2]);
    out += t[v >> 18 & 63];
    out += t[v >> 12 & 63];
    out += i + 1 < in.size() ? t[v >> 6 & 63] : '=';
    out += i + 2 < in.size() ? t[v & 63] : '=';
  }
  return out;
}

std::string svgChart(const Chart& c) {
  const double W = 440, H = 250;
  const ChartFrame f = frameFor(c, 0, 0, W, H);
  std::string s = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                  fmt(W, 0) + " " + fmt(H, 0) + "\" width=\"" + fmt(W, 0) + "\" height=\"" +
                  fmt(H, 0) + "\" role=\"img\"><title>" + esc(c.title) + "</title>";
  s += "<text x=\"" + fmt(f.px, 1) + "\" y=\"14\" class=\"ct\">" + esc(c.title) + "</text>";
  for (double t : f.ya.ticks) {
    const double y = f.mapY(t);
    s += "<line x1=\"" + fmt(f.px, 1) + "\" x2=\"" + fmt(f.px + f.pw, 1) + "\" y1=\"" + fmt(y, 1) +
         "\" y2=\"" + fmt(y, 1) + "\" class=\"grid\"/><text x=\"" + fmt(f.px - 4, 1) + "\" y=\"" +
         fmt(y + 4, 1) + "\" text-anchor=\"end\">" + fmt(t, f.ya.decimals) + "</text>";
  }
  for (double t : f.xa.ticks) {
    const double x = f.mapX(t);
    s += "<text x=\"" + fmt(x, 1) + "\" y=\"" + fmt(f.py + f.ph + 14, 1) +
         "\" text-anchor=\"middle\">" + fmt(t, f.xa.decimals) + "</text>";
  }
  s += "<text x=\"" + fmt(f.px + f.pw / 2, 1) + "\" y=\"" + fmt(f.py + f.ph + 28, 1) +
       "\" text-anchor=\"middle\">epoch</text>";
  s += "<rect x=\"" + fmt(f.px, 1) + "\" y=\"" + fmt(f.py, 1) + "\" width=\"" + fmt(f.pw, 1) +
       "\" height=\"" + fmt(f.ph, 1) + "\" class=\"frame\"/>";
  double lx = f.px;
  for (const auto& series : c.series) {
    std::string pts;
    for (const auto& [x, y] : series.points)
      if (std::isfinite(x) && std::isfinite(y))
        pts += fmt(f.mapX(x), 1) + "," + fmt(f.mapY(y), 1) + " ";
    const std::string col = cssColor(series.color);
    s += "<polyline fill=\"none\" stroke=\"" + col + "\" stroke-width=\"2\"" +
         (series.dashed ? " stroke-dasharray=\"5 3\"" : "") + " points=\"" + pts + "\"/>";
    for (const auto& [x, y] : series.points)
      if (series.points.size() == 1 && std::isfinite(x) && std::isfinite(y))
        s += "<circle cx=\"" + fmt(f.mapX(x), 1) + "\" cy=\"" + fmt(f.mapY(y), 1) +
             "\" r=\"3\" fill=\"" + col + "\"/>";
    const double ly = H - 8;
    s += "<line x1=\"" + fmt(lx, 1) + "\" x2=\"" + fmt(lx + 16, 1) + "\" y1=\"" + fmt(ly - 4, 1) +
         "\" y2=\"" + fmt(ly - 4, 1) + "\" stroke=\"" + col + "\" stroke-width=\"2\"" +
         (series.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/><text x=\"" + fmt(lx + 20, 1) +
         "\" y=\"" + fmt(ly, 1) + "\">" + esc(series.name) + "</text>";
    lx += 28 + 6.5 * double(std::min<size_t>(series.name.size(), 40));
  }
  return s + "</svg>";
}

std::vector<Chart> runCharts(const ReportRun& r) {
  Chart loss{"Loss", {}}, acc{"Accuracy", {}};
  Series tl{"train", {}, paletteColor(0), false}, vl{"validation", {}, paletteColor(1), true};
  Series ta{"train", {}, paletteColor(0), false}, va{"validation", {}, paletteColor(1), true};
  for (const auto& e : r.history) {
    tl.points.emplace_back(e.epoch, e.trainLoss);
    vl.points.emplace_back(e.epoch, e.valLoss);
    ta.points.emplace_back(e.epoch, e.trainAccuracy);
    va.points.emplace_back(e.epoch, e.valAccuracy);
  }
  loss.series = {tl, vl};
  acc.series = {ta, va};
  return {loss, acc};
}

std::vector<Chart> comparisonCharts(const std::vector<ReportRun>& runs) {
  Chart acc{"Validation accuracy", {}}, loss{"Training loss", {}};
  for (size_t i = 0; i < runs.size(); ++i) {
    Series a{runs[i].name, {}, paletteColor(i), false}, l{runs[i].name, {}, paletteColor(i), false};
    for (const auto& e : runs[i].history) {
      a.points.emplace_back(e.epoch, e.valAccuracy);
      l.points.emplace_back(e.epoch, e.trainLoss);
    }
    acc.series.push_back(a);
    loss.series.push_back(l);
  }
  return {acc, loss};
}

// Confusion-cell shade: the share of the true class's samples, white to blue.
PdfColor cellColor(double share) {
  return {1.0 - 0.85 * share, 1.0 - 0.6 * share, 1.0 - 0.25 * share};
}

std::string htmlKeyValues(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string s = "<table class=\"kv\">";
  for (const auto& [k, v] : kv) s += "<tr><th>" + esc(k) + "</th><td>" + esc(v) + "</td></tr>";
  return s + "</table>";
}

std::string htmlConfusion(const ReportEvaluation& e) {
  const size_t n = e.classNames.size();
  if (n > kMaxDrawnClasses)
    return "<p>" + std::to_string(n) +
           " classes are too many to draw here: see confusion_matrix.csv in the run folder.</p>";
  std::string s = "<table class=\"cm\"><tr><th>true \\ predicted</th>";
  for (const auto& c : e.classNames) s += "<th class=\"rot\"><span>" + esc(c) + "</span></th>";
  s += "</tr>";
  for (size_t i = 0; i < n; ++i) {
    int64_t rowSum = 0;
    for (int64_t v : e.confusion[i]) rowSum += v;
    s += "<tr><th>" + esc(e.classNames[i]) + "</th>";
    for (size_t j = 0; j < n; ++j) {
      const double share = rowSum ? double(e.confusion[i][j]) / double(rowSum) : 0;
      const PdfColor bg = cellColor(share);
      s += "<td style=\"background:" + cssColor(bg) + (share > 0.55 ? ";color:#fff" : "") +
           (i == j ? ";font-weight:bold" : "") + "\">" + std::to_string(e.confusion[i][j]) +
           "</td>";
    }
    s += "</tr>";
  }
  return s + "</table>";
}

std::string htmlPerClass(const ReportEvaluation& e) {
  std::string s =
      "<table class=\"num\"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
      "<th>support</th></tr>";
  for (const auto& m : e.perClass)
    s += "<tr><th>" + esc(m.name) + "</th><td>" + fmt(m.precision) + "</td><td>" + fmt(m.recall) +
         "</td><td>" + fmt(m.f1) + "</td><td>" + std::to_string(m.support) + "</td></tr>";
  return s + "</table>";
}

std::string htmlDataset(const ReportDataset& d) {
  if (!d.known) return "<p>Not recorded (dataset.json is not in the run folder).</p>";
  std::string s = htmlKeyValues({{"source", d.source},
                                 {"format", d.format},
                                 {"modality", d.modality},
                                 {"classes", std::to_string(d.classes.size())},
                                 {"skipped while reading", std::to_string(d.skipped)}});
  s += "<table class=\"num\"><tr><th>class</th><th>train</th><th>val</th><th>test</th></tr>";
  int64_t t[3] = {0, 0, 0};
  for (size_t i = 0; i < d.classes.size(); ++i) {
    s += "<tr><th>" + esc(d.classes[i]) + "</th><td>" + std::to_string(d.train[i]) + "</td><td>" +
         std::to_string(d.val[i]) + "</td><td>" + std::to_string(d.test[i]) + "</td></tr>";
    t[0] += d.train[i], t[1] += d.val[i], t[2] += d.test[i];
  }
  s += "<tr class=\"total\"><th>all</th><td>" + std::to_string(t[0]) + "</td><td>" +
       std::to_string(t[1]) + "</td><td>" + std::to_string(t[2]) + "</td></tr>";
  return s + "</table>";
}

std::string htmlMistakes(const ReportRun& r) {
  if (r.mistakes.empty())
    return "<p>None recorded" +
           std::string(r.final() && r.final()->accuracy >= 1.0 ? " (every prediction was right)."
                                                               : ".") +
           "</p>";
  std::string s = "<div class=\"mistakes\">";
  for (const auto& m : r.mistakes) {
    s += "<figure>";
    if (!m.thumbnailJpeg.empty())
      s += "<img alt=\"sample " + std::to_string(m.sample) + "\" src=\"data:image/jpeg;base64," +
           base64(m.thumbnailJpeg) + "\">";
    else if (!m.text.empty())
      s += "<blockquote>" + esc(m.text) + "</blockquote>";
    s += "<figcaption><b>" + esc(m.predicted) + "</b> " + fmt(m.probability * 100, 1) +
         "%<br>true: " + esc(m.trueLabel) + " (" + fmt(m.trueProbability * 100, 1) +
         "%)<br><small>" + esc(m.where) + "</small></figcaption></figure>";
  }
  return s + "</div>";
}

const char* kCss =
    R"(body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:60em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #0072b2;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.5em}.meta{color:#666}table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}table.num td{text-align:right}
table.kv th{background:#f4f4f4;font-weight:normal;color:#444}tr.total{font-weight:bold}
table.cm td{text-align:center;min-width:2.2em}th.rot{height:7em;vertical-align:bottom;white-space:nowrap}
th.rot span{writing-mode:vertical-rl;transform:rotate(180deg)}
.charts{display:flex;flex-wrap:wrap;gap:1em}svg.chart{font-size:11px;font-family:inherit}
svg .grid{stroke:#e3e3e3}svg .frame{fill:none;stroke:#999}svg .ct{font-weight:bold;font-size:12px}
.mistakes{display:flex;flex-wrap:wrap;gap:.8em}figure{margin:0;width:10em;font-size:.85em}
figure img{width:96px;height:auto;image-rendering:pixelated;border:1px solid #ccc}
figcaption small{color:#777;word-break:break-all}blockquote{margin:0;padding:.3em;background:#f6f6f6;font-size:.9em}
.notes{color:#8a5a00})";

}  // namespace

std::string reportHtml(const std::vector<ReportRun>& runs, const std::string& titleIn) {
  const std::string title = reportTitle(runs, titleIn);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                  esc(title) + "</title><style>" + kCss + "</style></head><body>\n<h1>" +
                  esc(title) + "</h1><p class=\"meta\">Written by TransferLab " +
                  TLAB_VERSION_STRING + " on " + today() + ".</p>\n";
  if (runs.size() > 1) {
    h += "<h2>Comparison</h2><table class=\"num\"><tr><th>run</th><th>backbone</th>"
         "<th>strategy</th><th>epochs</th><th>val accuracy</th><th>test accuracy</th>"
         "<th>test macro-F1</th><th>time</th></tr>";
    for (const auto& r : runs) {
      const auto cells = comparisonRow(r);
      h += "<tr><th>" + esc(cells[0]) + "</th>";
      for (size_t i = 1; i < cells.size(); ++i) h += "<td>" + esc(cells[i]) + "</td>";
      h += "</tr>";
    }
    h += "</table><div class=\"charts\">";
    for (const auto& c : comparisonCharts(runs)) h += svgChart(c);
    h += "</div>\n";
  }
  for (const auto& r : runs) {
    h += "<section><h2>" + std::string(runs.size() > 1 ? "Run: " : "Summary: ") + esc(r.name) +
         "</h2>";
    h += htmlKeyValues(runSummary(r));
    if (!r.notes.empty()) {
      h += "<p class=\"notes\">";
      for (const auto& n : r.notes) h += esc(n) + "<br>";
      h += "</p>";
    }
    h += "<h3>Configuration</h3>" + htmlKeyValues(r.settings);
    h += "<h3>Dataset</h3>" + htmlDataset(r.dataset);
    h += "<h3>Training curves</h3><div class=\"charts\">";
    for (const auto& c : runCharts(r)) h += svgChart(c);
    h += "</div>";
    if (const auto* f = r.final()) {
      h += "<h3>Confusion matrix (" + f->split + ", " + std::to_string(f->count) +
           " samples)</h3>" + htmlConfusion(*f);
      h += "<h3>Per-class metrics (" + f->split + ")</h3>" + htmlPerClass(*f);
    }
    h += "<h3>Most confident mistakes" +
         (r.mistakesSplit.empty() ? std::string() : " (" + r.mistakesSplit + ")") + "</h3>" +
         htmlMistakes(r);
    h += "<h3>Environment</h3>" + htmlKeyValues(r.environment) + "</section>\n";
  }
  return h + "</body></html>\n";
}

// ---------------------------------------------------------------- PDF

namespace {

// A top-to-bottom flow of blocks on A4 pages.
class PdfFlow {
 public:
  static constexpr double kMargin = 48;
  double width() const { return PdfDocument::kA4Width - 2 * kMargin; }
  PdfDocument& doc() { return doc_; }
  double y() const { return y_; }
  void need(double h) {
    if (doc_.pageCount() == 0 || y_ + h > PdfDocument::kA4Height - kMargin) {
      doc_.newPage();
      y_ = kMargin;
    }
  }
  void advance(double h) { y_ += h; }
  void heading(const std::string& text, double size) {
    need(size * 2.6 + 60);  // never a heading alone at a page's foot
    y_ += size * 0.9;
    for (const auto& line : pdfWrapText(text, size, width(), true)) {
      doc_.text(kMargin, y_ + size, line, size, true);
      y_ += size * 1.3;
    }
    if (size >= 14) doc_.line(kMargin, y_ + 2, kMargin + width(), y_ + 2, 1.2, paletteColor(0));
    y_ += size * 0.5;
  }
  void paragraph(const std::string& text, double size = 9.5, PdfColor c = {}) {
    for (const auto& line : pdfWrapText(text, size, width())) {
      need(size * 1.4);
      doc_.text(kMargin, y_ + size, line, size, false, c);
      y_ += size * 1.4;
    }
    y_ += 3;
  }
  // A table: each column's share of the width; the first row is the header; a long cell wraps.
  void table(const std::vector<std::vector<std::string>>& rows, const std::vector<double>& shares,
             bool numeric, double size = 8.5) {
    const double pad = 3;
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<std::vector<std::string>> cells;
      size_t lines = 1;
      for (size_t c = 0; c < rows[r].size() && c < shares.size(); ++c) {
        cells.push_back(pdfWrapText(rows[r][c], size, shares[c] * width() - 2 * pad, r == 0));
        if (cells.back().size() > 6) cells.back().resize(6);  // a very long value is cut
        lines = std::max(lines, cells.back().size());
      }
      const double h = double(lines) * size * 1.25 + 2 * pad;
      need(h);
      if (r == 0) doc_.fillRect(kMargin, y_, width(), h, {0.93, 0.93, 0.93});
      double x = kMargin;
      for (size_t c = 0; c < cells.size(); ++c) {
        const double cw = shares[c] * width();
        for (size_t l = 0; l < cells[c].size(); ++l) {
          const double tw = pdfTextWidth(cells[c][l], size, r == 0);
          const double tx = (numeric && c > 0) ? x + cw - pad - tw : x + pad;
          doc_.text(tx, y_ + pad + size * (1.0 + 1.25 * double(l)) - 1.5, cells[c][l], size,
                    r == 0);
        }
        x += cw;
      }
      doc_.line(kMargin, y_ + h, kMargin + width(), y_ + h, 0.4, {0.75, 0.75, 0.75});
      y_ += h;
    }
    y_ += 6;
  }
  // Long lists (a run's whole configuration) take two pairs per row: half the length.
  void keyValues(const std::vector<std::pair<std::string, std::string>>& kv) {
    if (kv.size() <= 12) {
      std::vector<std::vector<std::string>> rows{{"setting", "value"}};
      for (const auto& [k, v] : kv) rows.push_back({k, v});
      table(rows, {0.32, 0.68}, false);
      return;
    }
    const size_t half = (kv.size() + 1) / 2;
    std::vector<std::vector<std::string>> rows{{"setting", "value", "setting", "value"}};
    for (size_t i = 0; i < half; ++i) {
      rows.push_back({kv[i].first, kv[i].second, "", ""});
      if (half + i < kv.size())
        rows.back()[2] = kv[half + i].first, rows.back()[3] = kv[half + i].second;
    }
    table(rows, {0.22, 0.28, 0.22, 0.28}, false);
  }
  void chart(const Chart& c, double x, double w, double h) {
    const ChartFrame f = frameFor(c, x, y_, w, h);
    doc_.text(f.px, y_ + 12, c.title, 9.5, true);
    const PdfColor grey{0.45, 0.45, 0.45};
    for (double t : f.ya.ticks) {
      const double ty = f.mapY(t);
      doc_.line(f.px, ty, f.px + f.pw, ty, 0.3, {0.88, 0.88, 0.88});
      const std::string label = fmt(t, f.ya.decimals);
      doc_.text(f.px - 4 - pdfTextWidth(label, 7.5), ty + 2.5, label, 7.5, false, grey);
    }
    for (double t : f.xa.ticks) {
      const std::string label = fmt(t, f.xa.decimals);
      doc_.text(f.mapX(t) - pdfTextWidth(label, 7.5) / 2, f.py + f.ph + 11, label, 7.5, false,
                grey);
    }
    doc_.text(f.px + f.pw / 2 - 12, f.py + f.ph + 22, "epoch", 7.5, false, grey);
    doc_.strokeRect(f.px, f.py, f.pw, f.ph, 0.5, {0.6, 0.6, 0.6});
    double lx = f.px;
    for (const auto& s : c.series) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& [px, py] : s.points)
        if (std::isfinite(px) && std::isfinite(py)) pts.emplace_back(f.mapX(px), f.mapY(py));
      if (pts.size() == 1) doc_.fillRect(pts[0].first - 2, pts[0].second - 2, 4, 4, s.color);
      doc_.polyline(pts, s.dashed ? 1.0 : 1.6, s.color);
      const double ly = y_ + h - 6;
      doc_.line(lx, ly - 3, lx + 14, ly - 3, s.dashed ? 1.0 : 1.6, s.color);
      const std::string name = s.name.size() > 40 ? s.name.substr(0, 37) + "..." : s.name;
      doc_.text(lx + 18, ly, name, 7.5);
      lx += 30 + pdfTextWidth(name, 7.5);
    }
  }
  void chartPair(const std::vector<Chart>& charts) {
    const double h = 190;
    need(h + 8);
    const double w = (width() - 12) / 2;
    for (size_t i = 0; i < charts.size() && i < 2; ++i)
      chart(charts[i], kMargin + double(i) * (w + 12), w, h);
    y_ += h + 8;
  }
  void confusion(const ReportEvaluation& e) {
    const size_t n = e.classNames.size();
    if (n > kMaxDrawnClasses) {
      paragraph(std::to_string(n) +
                " classes are too many to draw here: see confusion_matrix.csv in the run folder.");
      return;
    }
    const double labelW = 90;
    const double cell = std::min(28.0, (width() - labelW) / double(n));
    const double font = std::min(8.0, cell * 0.42);
    need(double(n) * cell + 70);
    // Column labels: numbers above the columns, the names in the row labels (rotated text
    // is not worth a font matrix here).
    for (size_t j = 0; j < n; ++j) {
      const std::string k = std::to_string(j + 1);
      doc_.text(kMargin + labelW + double(j) * cell + (cell - pdfTextWidth(k, font, true)) / 2,
                y_ + 10, k, font, true);
    }
    doc_.text(kMargin, y_ + 10, "true \\ predicted", 7.5, false, {0.4, 0.4, 0.4});
    y_ += 14;
    for (size_t i = 0; i < n; ++i) {
      int64_t rowSum = 0;
      for (int64_t v : e.confusion[i]) rowSum += v;
      std::string name = std::to_string(i + 1) + " " + e.classNames[i];
      while (name.size() > 4 && pdfTextWidth(name, font) > labelW - 6) name.pop_back();
      doc_.text(kMargin, y_ + cell / 2 + font / 3, name, font);
      for (size_t j = 0; j < n; ++j) {
        const double share = rowSum ? double(e.confusion[i][j]) / double(rowSum) : 0;
        const double x = kMargin + labelW + double(j) * cell;
        doc_.fillRect(x, y_, cell, cell, cellColor(share));
        doc_.strokeRect(x, y_, cell, cell, 0.3, {0.8, 0.8, 0.8});
        const std::string v = std::to_string(e.confusion[i][j]);
        if (pdfTextWidth(v, font) < cell - 2)
          doc_.text(x + (cell - pdfTextWidth(v, font, i == j)) / 2, y_ + cell / 2 + font / 3, v,
                    font, i == j, share > 0.55 ? PdfColor{1, 1, 1} : PdfColor{});
      }
      y_ += cell;
    }
    y_ += 10;
  }
  void mistakes(const ReportRun& r) {
    if (r.mistakes.empty()) {
      paragraph(r.final() && r.final()->accuracy >= 1.0 ? "None: every prediction was right."
                                                        : "None recorded.");
      return;
    }
    const double cellW = width() / 4, thumb = 72;
    size_t col = 0;
    double rowH = 0;
    for (const auto& m : r.mistakes) {
      const bool hasText = m.thumbnailJpeg.empty() && !m.text.empty();
      std::vector<std::string> lines;
      if (hasText) lines = pdfWrapText(m.text, 7.5, cellW - 8);
      if (lines.size() > 6) lines.resize(6), lines.back() += " ...";
      const double h = (m.thumbnailJpeg.empty() ? double(lines.size()) * 9.5 : thumb) + 36;
      if (col == 0) {
        need(std::max(h, 108.0));
        rowH = 0;
      }
      const double x = kMargin + double(col) * cellW;
      double ty = y_;
      if (!m.thumbnailJpeg.empty()) {
        const int id = doc_.addJpeg(m.thumbnailJpeg);
        const auto [pw, ph] = doc_.imageSize(id);
        const double s = thumb / double(std::max(pw, ph));
        doc_.image(id, x, ty, double(pw) * s, double(ph) * s);
        ty += thumb + 2;
      }
      for (const auto& l : lines) {
        doc_.text(x, ty + 8, l, 7.5, false, {0.3, 0.3, 0.3});
        ty += 9.5;
      }
      doc_.text(x, ty + 10, m.predicted + " " + fmt(m.probability * 100, 1) + "%", 8, true);
      doc_.text(x, ty + 20, "true: " + m.trueLabel + " (" + fmt(m.trueProbability * 100, 1) + "%)",
                7.5);
      std::string where = m.where;
      if (pdfTextWidth(where, 6.5) > cellW - 6) {  // the end of a path says most
        while (where.size() > 4 && pdfTextWidth("..." + where, 6.5) > cellW - 6) where.erase(0, 1);
        where = "..." + where;
      }
      doc_.text(x, ty + 29, where, 6.5, false, {0.45, 0.45, 0.45});
      rowH = std::max(rowH, ty + 34 - y_);
      if (++col == 4) {
        col = 0;
        y_ += rowH + 6;
      }
    }
    if (col) y_ += rowH + 6;
  }

 private:
  PdfDocument doc_;
  double y_ = 0;
};

}  // namespace

std::string reportPdf(const std::vector<ReportRun>& runs, const std::string& titleIn) {
  const std::string title = reportTitle(runs, titleIn);
  PdfFlow f;
  f.need(0);
  f.heading(title, 18);
  f.paragraph("Written by TransferLab " + std::string(TLAB_VERSION_STRING) + " on " + today() + ".",
              9, {0.4, 0.4, 0.4});
  if (runs.size() > 1) {
    f.heading("Comparison", 14);
    std::vector<std::vector<std::string>> rows{
        {"run", "backbone", "strategy", "epochs", "val acc", "test acc", "test macro-F1", "time"}};
    for (const auto& r : runs) rows.push_back(comparisonRow(r));
    f.table(rows, {0.2, 0.16, 0.14, 0.08, 0.1, 0.1, 0.12, 0.1}, true);
    f.chartPair(comparisonCharts(runs));
  }
  for (const auto& r : runs) {
    if (runs.size() > 1) f.need(1e9);  // each run on its own pages
    f.heading((runs.size() > 1 ? "Run: " : "Summary: ") + r.name, 14);
    f.keyValues(runSummary(r));
    for (const auto& n : r.notes) f.paragraph(n, 8.5, {0.55, 0.35, 0});
    f.heading("Training curves", 11);
    f.chartPair(runCharts(r));
    if (const auto* e = r.final()) {
      f.need(std::min(400.0, 28.0 * double(std::min(e->classNames.size(), kMaxDrawnClasses))) +
             100);  // the heading stays with its matrix
      f.heading("Confusion matrix (" + e->split + ", " + std::to_string(e->count) + " samples)",
                11);
      f.confusion(*e);
      f.heading("Per-class metrics (" + e->split + ")", 11);
      std::vector<std::vector<std::string>> rows{{"class", "precision", "recall", "F1", "support"}};
      for (const auto& m : e->perClass)
        rows.push_back(
            {m.name, fmt(m.precision), fmt(m.recall), fmt(m.f1), std::to_string(m.support)});
      f.table(rows, {0.4, 0.15, 0.15, 0.15, 0.15}, true);
    }
    f.heading("Most confident mistakes" +
                  (r.mistakesSplit.empty() ? std::string() : " (" + r.mistakesSplit + ")"),
              11);
    f.mistakes(r);
    f.heading("Configuration", 11);
    f.keyValues(r.settings);
    f.heading("Dataset", 11);
    const ReportDataset& d = r.dataset;
    if (!d.known) {
      f.paragraph("Not recorded (dataset.json is not in the run folder).");
    } else {
      f.keyValues({{"source", d.source},
                   {"format", d.format},
                   {"modality", d.modality},
                   {"classes", std::to_string(d.classes.size())},
                   {"skipped while reading", std::to_string(d.skipped)}});
      std::vector<std::vector<std::string>> rows{{"class", "train", "val", "test"}};
      for (size_t i = 0; i < d.classes.size(); ++i)
        rows.push_back({d.classes[i], std::to_string(d.train[i]), std::to_string(d.val[i]),
                        std::to_string(d.test[i])});
      f.table(rows, {0.46, 0.18, 0.18, 0.18}, true);
    }
    f.heading("Environment", 11);
    f.keyValues(r.environment);
  }
  return f.doc().finish(title);
}

ReportFormat reportFormatFor(const fs::path& out) {
  const std::string ext = lowerExtension(out);
  if (ext == ".html" || ext == ".htm") return ReportFormat::Html;
  if (ext == ".pdf") return ReportFormat::Pdf;
  throw InvalidArgument(out.string() + ": a report is written as .html or .pdf");
}

ReportWritten writeRunReport(const std::vector<ReportRun>& runs, const fs::path& out,
                             const std::string& title) {
  if (runs.empty()) throw InvalidArgument("a report needs at least one run");
  ReportWritten w;
  w.format = reportFormatFor(out);
  const std::string bytes =
      w.format == ReportFormat::Html ? reportHtml(runs, title) : reportPdf(runs, title);
  writeFileVerified(out, bytes);  // atomically, then read back byte for byte
  const std::string& back = bytes;
  w.bytes = back.size();
  for (const auto& r : runs)
    for (const auto& m : r.mistakes) w.images += !m.thumbnailJpeg.empty();
  if (w.format == ReportFormat::Pdf) {
    const PdfCheck check = checkPdf(back, out.string());
    w.pages = check.pages;
    if (check.images != w.images)
      throw FormatError(out.string(), "holds " + std::to_string(check.images) +
                                          " images, expected " + std::to_string(w.images));
    std::string shown;  // wrapped lines joined again
    for (const auto& s : check.strings) shown += s + " ";
    for (const auto& r : runs) {
      const std::string heading = (runs.size() > 1 ? "Run: " : "Summary: ") + r.name;
      if (shown.find(heading) == std::string::npos && isValidUtf8(r.name) &&
          std::all_of(r.name.begin(), r.name.end(), [](char c) { return c >= 32 && c < 127; }))
        throw FormatError(out.string(), "does not show the heading of run " + r.name);
    }
  } else if (back.rfind("<!DOCTYPE html>", 0) != 0 || back.find("</html>") == std::string::npos) {
    throw FormatError(out.string(), "is not a complete HTML document");
  }
  return w;
}

}  // namespace tlab::core
