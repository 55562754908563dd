#include "core/train/Calibration.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/Errors.h"

namespace tlab::core {
namespace {

void checkShape(const std::vector<float>& logits, int64_t classes, size_t labels) {
  if (classes < 1) throw InvalidArgument("calibration: at least one class is needed");
  if (logits.size() != labels * size_t(classes))
    throw InvalidArgument("calibration: " + std::to_string(logits.size()) + " logits for " +
                          std::to_string(labels) + " labels of " + std::to_string(classes) +
                          " classes");
}

// d/dbeta of the mean NLL of softmax(beta * z): mean over rows of E_p[z] - z_label.
double nllSlope(const std::vector<float>& z, int64_t c, const std::vector<int32_t>& y,
                double beta) {
  double sum = 0;
  for (size_t r = 0; r < y.size(); ++r) {
    const float* row = z.data() + r * size_t(c);
    const double top = *std::max_element(row, row + c);
    double norm = 0, expected = 0;
    for (int64_t k = 0; k < c; ++k) {
      const double e = std::exp(beta * (double(row[k]) - top));
      norm += e;
      expected += e * double(row[k]);
    }
    sum += expected / norm - double(row[y[r]]);
  }
  return sum / double(y.size());
}

}  // namespace

double meanNll(const std::vector<float>& z, int64_t c, const std::vector<int32_t>& y, double t) {
  checkShape(z, c, y.size());
  if (y.empty()) return 0;
  double sum = 0;
  for (size_t r = 0; r < y.size(); ++r) {
    const float* row = z.data() + r * size_t(c);
    const double top = *std::max_element(row, row + c);
    double norm = 0;
    for (int64_t k = 0; k < c; ++k) norm += std::exp((double(row[k]) - top) / t);
    sum += std::log(norm) - (double(row[y[r]]) - top) / t;
  }
  return sum / double(y.size());
}

double fitTemperature(const std::vector<float>& z, int64_t c, const std::vector<int32_t>& y) {
  checkShape(z, c, y.size());
  for (int32_t label : y)
    if (label < 0 || label >= c) throw InvalidArgument("calibration: label out of range");
  if (y.empty()) return 1.0;
  // The slope rises with beta (convexity); find its zero in log space within [1e-2, 1e2].
  double lo = std::log(1e-2), hi = std::log(1e2);
  if (nllSlope(z, c, y, std::exp(lo)) >= 0) return 1.0 / std::exp(lo);
  if (nllSlope(z, c, y, std::exp(hi)) <= 0) return 1.0 / std::exp(hi);
  for (int i = 0; i < 100 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (nllSlope(z, c, y, std::exp(mid)) < 0 ? lo : hi) = mid;
  }
  return 1.0 / std::exp(0.5 * (lo + hi));
}

TemperatureCheck crossValidateTemperature(const std::vector<float>& z, int64_t c,
                                          const std::vector<int32_t>& y, int folds) {
  checkShape(z, c, y.size());
  if (folds < 2) throw InvalidArgument("crossValidateTemperature: at least two folds");
  TemperatureCheck check;
  if (y.size() < size_t(2 * folds)) return check;
  check.folds = folds;
  double atOne = 0, fitted = 0;
  for (int f = 0; f < folds; ++f) {
    std::vector<float> fitZ, heldZ;
    std::vector<int32_t> fitY, heldY;
    for (size_t r = 0; r < y.size(); ++r) {
      const bool held = int(r % size_t(folds)) == f;
      (held ? heldY : fitY).push_back(y[r]);
      auto& zs = held ? heldZ : fitZ;
      zs.insert(zs.end(), z.begin() + std::ptrdiff_t(r * size_t(c)),
                z.begin() + std::ptrdiff_t((r + 1) * size_t(c)));
    }
    const double t = fitTemperature(fitZ, c, fitY);
    // Weighted by the fold's size, so the means are over rows.
    atOne += meanNll(heldZ, c, heldY) * double(heldY.size());
    fitted += meanNll(heldZ, c, heldY, t) * double(heldY.size());
  }
  check.nllAtOne = atOne / double(y.size());
  check.nllFitted = fitted / double(y.size());
  return check;
}

std::vector<float> softmaxRows(const std::vector<float>& z, int64_t c, double t) {
  if (c < 1 || z.size() % size_t(c) != 0) throw InvalidArgument("softmaxRows: bad shape");
  std::vector<float> p(z.size());
  for (size_t r = 0; r < z.size() / size_t(c); ++r) {
    const float* row = z.data() + r * size_t(c);
    const double top = *std::max_element(row, row + c);
    double norm = 0;
    for (int64_t k = 0; k < c; ++k) norm += std::exp((double(row[k]) - top) / t);
    for (int64_t k = 0; k < c; ++k)
      p[r * size_t(c) + size_t(k)] = float(std::exp((double(row[k]) - top) / t) / norm);
  }
  return p;
}

TopPrediction topPredictions(const std::vector<float>& z, int64_t c, const std::vector<int32_t>& y,
                             double t) {
  checkShape(z, c, y.size());
  const auto p = softmaxRows(z, c, t);
  TopPrediction out;
  for (size_t r = 0; r < y.size(); ++r) {
    const float* row = p.data() + r * size_t(c);
    const auto best = int32_t(std::max_element(row, row + c) - row);
    out.confidence.push_back(row[best]);
    out.predicted.push_back(best);
    out.correct.push_back(best == y[r] ? 1 : 0);
  }
  return out;
}

Reliability reliability(const std::vector<double>& conf, const std::vector<uint8_t>& correct,
                        int bins) {
  if (bins < 1) throw InvalidArgument("reliability: at least one bin");
  if (conf.size() != correct.size()) throw InvalidArgument("reliability: sizes differ");
  Reliability r;
  r.bins.resize(size_t(bins));
  std::vector<double> confSum(size_t(bins), 0), hits(size_t(bins), 0);
  for (int b = 0; b < bins; ++b) {
    r.bins[size_t(b)].lower = double(b) / bins;
    r.bins[size_t(b)].upper = double(b + 1) / bins;
  }
  for (size_t i = 0; i < conf.size(); ++i) {
    // (lower, upper]: ceil(c * B) - 1, with 0 in the first bin.
    const int b = std::clamp(int(std::ceil(conf[i] * bins - 1e-12)) - 1, 0, bins - 1);
    r.bins[size_t(b)].count++;
    confSum[size_t(b)] += conf[i];
    hits[size_t(b)] += correct[i] ? 1 : 0;
  }
  for (size_t b = 0; b < r.bins.size(); ++b) {
    auto& bin = r.bins[b];
    if (bin.count == 0) continue;
    bin.confidence = confSum[b] / double(bin.count);
    bin.accuracy = hits[b] / double(bin.count);
    r.ece += double(bin.count) / double(conf.size()) * std::abs(bin.accuracy - bin.confidence);
  }
  return r;
}

CoveragePoint coverageAt(const std::vector<double>& conf, const std::vector<uint8_t>& correct,
                         double threshold) {
  if (conf.size() != correct.size()) throw InvalidArgument("coverageAt: sizes differ");
  CoveragePoint p;
  p.threshold = threshold;
  int64_t hits = 0;
  for (size_t i = 0; i < conf.size(); ++i) {
    if (conf[i] < threshold) continue;
    p.covered++;
    hits += correct[i] ? 1 : 0;
  }
  p.coverage = conf.empty() ? 0 : double(p.covered) / double(conf.size());
  p.accuracy = p.covered ? double(hits) / double(p.covered) : 1.0;
  return p;
}

std::vector<CoveragePoint> coverageCurve(const std::vector<double>& conf,
                                         const std::vector<uint8_t>& correct) {
  if (conf.size() != correct.size()) throw InvalidArgument("coverageCurve: sizes differ");
  std::vector<size_t> order(conf.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return conf[a] > conf[b]; });
  std::vector<CoveragePoint> out;
  int64_t hits = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    hits += correct[order[k]] ? 1 : 0;
    const bool lastOfTie = k + 1 == order.size() || conf[order[k + 1]] != conf[order[k]];
    if (!lastOfTie) continue;
    CoveragePoint p;
    p.threshold = conf[order[k]];
    p.covered = int64_t(k + 1);
    p.coverage = double(k + 1) / double(order.size());
    p.accuracy = double(hits) / double(k + 1);
    out.push_back(p);
  }
  return out;
}

namespace {
std::vector<float> unitRow(const float* x, int64_t width) {
  double norm = 0;
  for (int64_t k = 0; k < width; ++k) norm += double(x[k]) * double(x[k]);
  norm = std::sqrt(norm);
  std::vector<float> out(x, x + width);
  if (norm > 0)
    for (auto& v : out) v = float(double(v) / norm);
  return out;
}
}  // namespace

double nearestMeanDistance(const OodReference& ref, const float* feature, int64_t width) {
  if (ref.empty()) return 0;
  const auto f = unitRow(feature, width);
  double best = 2;
  for (const auto& m : ref.classMeans) {
    if (int64_t(m.size()) != width) continue;
    double dot = 0, norm = 0;
    for (int64_t k = 0; k < width; ++k) {
      dot += double(f[size_t(k)]) * double(m[size_t(k)]);
      norm += double(m[size_t(k)]) * double(m[size_t(k)]);
    }
    if (norm <= 0) continue;
    best = std::min(best, 1.0 - dot / std::sqrt(norm));
  }
  return best;
}

OodReference fitOodReference(const std::vector<float>& train, const std::vector<int32_t>& labels,
                             const std::vector<float>& held, int64_t width, int64_t classes,
                             double quantile) {
  if (width < 1 || train.size() != labels.size() * size_t(width) || held.size() % size_t(width))
    throw InvalidArgument("fitOodReference: features and labels disagree");
  OodReference ref;
  std::vector<std::vector<double>> sum(size_t(classes), std::vector<double>(size_t(width), 0));
  std::vector<int64_t> count(size_t(classes), 0);
  for (size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] < 0 || labels[r] >= classes) throw InvalidArgument("fitOodReference: bad label");
    const auto u = unitRow(train.data() + r * size_t(width), width);
    for (int64_t k = 0; k < width; ++k) sum[size_t(labels[r])][size_t(k)] += u[size_t(k)];
    count[size_t(labels[r])]++;
  }
  for (size_t c = 0; c < size_t(classes); ++c) {
    if (count[c] == 0) continue;
    std::vector<float> mean(static_cast<size_t>(width));
    for (int64_t k = 0; k < width; ++k)
      mean[size_t(k)] = float(sum[c][size_t(k)] / double(count[c]));
    ref.classMeans.push_back(std::move(mean));
  }
  const std::vector<float>& rows = held.empty() ? train : held;
  std::vector<double> d;
  for (size_t r = 0; r < rows.size() / size_t(width); ++r)
    d.push_back(nearestMeanDistance(ref, rows.data() + r * size_t(width), width));
  if (d.empty()) return ref;
  std::sort(d.begin(), d.end());
  const double pos = std::clamp(quantile, 0.0, 1.0) * double(d.size() - 1);
  const size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, d.size() - 1);
  ref.threshold = d[lo] + (pos - double(lo)) * (d[hi] - d[lo]);
  return ref;
}

}  // namespace tlab::core
