#include "app/cli/CurveSvg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace tlab::cli {
namespace {

constexpr double kWidth = 760, kHeight = 460;
constexpr double kLeft = 70, kRight = 190, kTop = 50, kBottom = 60;
const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string curveSvg(const std::vector<core::CurvePoint>& points, const std::string& title) {
  std::set<int> sizes;
  for (const auto& p : points) sizes.insert(p.perClass);
  const double lo = sizes.empty() ? 1 : std::log10(double(*sizes.begin()));
  double hi = sizes.empty() ? 10 : std::log10(double(*sizes.rbegin()));
  if (hi - lo < 1e-9) hi = lo + 1;
  const double plotW = kWidth - kLeft - kRight, plotH = kHeight - kTop - kBottom;
  const double pad = 0.04 * (hi - lo);
  auto x = [&](double n) {
    return kLeft + (std::log10(n) - lo + pad) / (hi - lo + 2 * pad) * plotW;
  };
  auto y = [&](double acc) { return kTop + (1.0 - acc) * plotH; };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) +
                  "\" height=\"" + num(kHeight) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + num(kLeft) + "\" y=\"28\" font-size=\"14\">" + escape(title) + "</text>\n";
  for (int i = 0; i <= 10; ++i) {  // accuracy grid, 0 to 1
    const double acc = i / 10.0;
    s += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kLeft + plotW) + "\" y1=\"" + num(y(acc)) +
         "\" y2=\"" + num(y(acc)) + "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + num(kLeft - 8) + "\" y=\"" + num(y(acc) + 4) + "\" text-anchor=\"end\">" +
         num(acc).substr(0, 3) + "</text>\n";
  }
  for (int n : sizes) {  // a tick at every size run
    s += "<line x1=\"" + num(x(n)) + "\" x2=\"" + num(x(n)) + "\" y1=\"" + num(kTop) + "\" y2=\"" +
         num(kTop + plotH) + "\" stroke=\"#eee\"/>\n";
    s += "<text x=\"" + num(x(n)) + "\" y=\"" + num(kTop + plotH + 18) +
         "\" text-anchor=\"middle\">" + std::to_string(n) + "</text>\n";
  }
  s += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(plotW) +
       "\" height=\"" + num(plotH) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  s += "<text x=\"" + num(kLeft + plotW / 2) + "\" y=\"" + num(kHeight - 18) +
       "\" text-anchor=\"middle\">labelled training samples per class (log scale)</text>\n";
  s += "<text transform=\"translate(20," + num(kTop + plotH / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">test accuracy</text>\n";

  std::map<int, std::vector<const core::CurvePoint*>> byStrategy;
  for (const auto& p : points) byStrategy[int(p.strategy)].push_back(&p);
  size_t series = 0;
  for (const auto& [strategy, pts] : byStrategy) {
    const std::string colour = kColours[series % (sizeof kColours / sizeof *kColours)];
    std::string line;
    for (const auto* p : pts) {
      line += num(x(p->perClass)) + "," + num(y(p->mean)) + " ";
      s += "<line x1=\"" + num(x(p->perClass)) + "\" x2=\"" + num(x(p->perClass)) + "\" y1=\"" +
           num(y(p->min)) + "\" y2=\"" + num(y(p->max)) + "\" stroke=\"" + colour +
           "\" stroke-width=\"2\" opacity=\"0.6\"/>\n";
      s += "<circle cx=\"" + num(x(p->perClass)) + "\" cy=\"" + num(y(p->mean)) +
           "\" r=\"3.5\" fill=\"" + colour + "\"><title>" +
           core::strategyName(core::Strategy(strategy)) + " n=" + std::to_string(p->perClass) +
           ": " + num(100 * p->mean) + "% (" + num(100 * p->min) + "-" + num(100 * p->max) +
           "%)</title></circle>\n";
    }
    s += "<polyline points=\"" + line + "\" fill=\"none\" stroke=\"" + colour +
         "\" stroke-width=\"2\"/>\n";
    const double ly = kTop + 20 + 22 * double(series);
    s += "<line x1=\"" + num(kLeft + plotW + 16) + "\" x2=\"" + num(kLeft + plotW + 40) +
         "\" y1=\"" + num(ly) + "\" y2=\"" + num(ly) + "\" stroke=\"" + colour +
         "\" stroke-width=\"2\"/>\n";
    s += "<text x=\"" + num(kLeft + plotW + 46) + "\" y=\"" + num(ly + 4) + "\">" +
         core::strategyName(core::Strategy(strategy)) + "</text>\n";
    ++series;
  }
  const double noteY = kTop + 20 + 22 * double(series) + 10;
  s += "<text x=\"" + num(kLeft + plotW + 16) + "\" y=\"" + num(noteY) +
       "\" fill=\"#555\">line: mean over seeds</text>\n";
  s += "<text x=\"" + num(kLeft + plotW + 16) + "\" y=\"" + num(noteY + 16) +
       "\" fill=\"#555\">bar: min to max</text>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace tlab::cli
