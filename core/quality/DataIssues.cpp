#include "core/quality/DataIssues.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/Errors.h"
#include "core/train/CachedFeatures.h"
#include "core/train/Evaluate.h"
#include "core/train/FeatureCache.h"
#include "core/train/StartingModel.h"
#include "core/util/Random.h"

namespace tlab::core {
namespace {

void checkProbabilities(const std::vector<float>& p, const std::vector<int32_t>& labels,
                        int64_t classes) {
  if (classes < 2) throw InvalidArgument("data issues: at least two classes are needed");
  if (p.size() != labels.size() * size_t(classes))
    throw InvalidArgument("data issues: " + std::to_string(p.size()) + " probabilities for " +
                          std::to_string(labels.size()) + " labels of " + std::to_string(classes) +
                          " classes");
  for (int32_t y : labels)
    if (y < 0 || y >= classes) throw InvalidArgument("data issues: label out of range");
}

}  // namespace

ConfidentJoint confidentJoint(const std::vector<float>& p, const std::vector<int32_t>& labels,
                              int64_t c) {
  checkProbabilities(p, labels, c);
  ConfidentJoint cj;
  cj.thresholds.assign(size_t(c), std::numeric_limits<double>::infinity());
  std::vector<double> sum(size_t(c), 0);
  std::vector<int64_t> count(size_t(c), 0);
  for (size_t r = 0; r < labels.size(); ++r) {
    sum[size_t(labels[r])] += p[r * size_t(c) + size_t(labels[r])];
    count[size_t(labels[r])]++;
  }
  for (size_t j = 0; j < size_t(c); ++j)
    if (count[j] > 0) cj.thresholds[j] = sum[j] / double(count[j]);
  cj.counts.assign(size_t(c), std::vector<int64_t>(size_t(c), 0));
  for (size_t r = 0; r < labels.size(); ++r) {
    const float* row = p.data() + r * size_t(c);
    int32_t best = -1;
    for (int32_t j = 0; j < c; ++j) {
      // A tiny tolerance: a row exactly at its class's mean counts (float sums round).
      if (double(row[j]) + 1e-9 < cj.thresholds[size_t(j)]) continue;
      if (best < 0 || row[j] > row[best]) best = j;
    }
    if (best < 0) continue;
    const int32_t given = labels[r];
    cj.counts[size_t(given)][size_t(best)]++;
    if (best == given) continue;
    LabelIssue issue;
    issue.row = r;
    issue.given = given;
    issue.suggested = best;
    issue.givenProbability = row[given];
    issue.suggestedProbability = row[best];
    issue.score = 1.0 - double(row[given]);
    cj.issues.push_back(issue);
  }
  std::stable_sort(cj.issues.begin(), cj.issues.end(),
                   [](const LabelIssue& a, const LabelIssue& b) { return a.score > b.score; });
  return cj;
}

ConfidentJoint findLabelIssues(const std::vector<float>& p, const std::vector<int32_t>& labels,
                               int64_t c) {
  ConfidentJoint cj = confidentJoint(p, labels, c);
  const size_t count = cj.issues.size();
  std::vector<int32_t> counted(labels.size(), -1);  // the joint's class of its off-diagonal rows
  for (const auto& i : cj.issues) counted[i.row] = i.suggested;
  std::vector<size_t> candidates;
  for (size_t r = 0; r < labels.size(); ++r) {
    const float* row = p.data() + r * size_t(c);
    if (std::max_element(row, row + c) - row != labels[r]) candidates.push_back(r);
  }
  const auto self = [&](size_t r) { return p[r * size_t(c) + size_t(labels[r])]; };
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](size_t a, size_t b) { return self(a) < self(b); });
  if (candidates.size() > count) candidates.resize(count);
  cj.issues.clear();
  for (size_t r : candidates) {
    const float* row = p.data() + r * size_t(c);
    LabelIssue issue;
    issue.row = r;
    issue.given = labels[r];
    issue.suggested = counted[r];
    if (issue.suggested < 0) {  // the most probable other class
      for (int32_t j = 0; j < c; ++j)
        if (j != labels[r] && (issue.suggested < 0 || row[j] > row[issue.suggested]))
          issue.suggested = j;
    }
    issue.givenProbability = row[labels[r]];
    issue.suggestedProbability = row[issue.suggested];
    issue.score = 1.0 - double(row[labels[r]]);
    cj.issues.push_back(issue);
  }
  return cj;
}

std::vector<int> stratifiedFolds(const std::vector<int32_t>& labels, int folds, uint64_t seed) {
  if (folds < 2) throw InvalidArgument("cross-validation needs at least 2 folds");
  int32_t classes = 0;
  for (int32_t y : labels) classes = std::max(classes, y + 1);
  std::vector<int> fold(labels.size(), 0);
  int next = 0;  // classes continue the deal where the previous one stopped: even fold sizes
  for (int32_t k = 0; k < classes; ++k) {
    std::vector<size_t> rows;
    for (size_t r = 0; r < labels.size(); ++r)
      if (labels[r] == k) rows.push_back(r);
    Rng rng(mixSeed(seed, uint64_t(k), 0x464f4c44));
    for (size_t i = 0; i + 1 < rows.size(); ++i)
      std::swap(rows[i], rows[i + size_t(rng.below(uint64_t(rows.size() - i)))]);
    for (size_t r : rows) fold[r] = next++ % folds;
  }
  return fold;
}

namespace {

// Multinomial logistic regression on standardised features, full-batch L-BFGS.
struct LinearProbe {
  torch::Tensor mean, sd, w, b;
  torch::Tensor probabilities(const torch::Tensor& x) const {
    return torch::softmax(((x - mean) / sd).matmul(w) + b, 1).contiguous();
  }
};

LinearProbe fitProbe(const torch::Tensor& x, const torch::Tensor& y, int64_t classes,
                     const ProbeOptions& o, uint64_t seed) {
  LinearProbe p;
  p.mean = x.mean(0, true);
  p.sd = x.std(0, /*unbiased=*/false, true).clamp_min(1e-6);
  const auto xs = (x - p.mean) / p.sd;
  torch::manual_seed(seed);
  p.w = torch::zeros({x.size(1), classes}, torch::kFloat).requires_grad_(true);
  p.b = torch::zeros({classes}, torch::kFloat).requires_grad_(true);
  torch::optim::LBFGS opt({p.w, p.b}, torch::optim::LBFGSOptions(1.0)
                                          .max_iter(o.iterations)
                                          .history_size(20)
                                          .line_search_fn("strong_wolfe"));
  torch::AutoGradMode grad(true);
  auto closure = [&]() -> torch::Tensor {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(xs.matmul(p.w) + p.b, y) +
                0.5 * o.weightDecay * p.w.pow(2).sum();
    loss.backward();
    return loss;
  };
  opt.step(closure);
  p.w = p.w.detach();
  p.b = p.b.detach();
  return p;
}

void checkProbeInput(const torch::Tensor& features, const std::vector<int32_t>& labels,
                     int64_t classes) {
  if (features.dim() != 2 || features.size(0) != int64_t(labels.size()))
    throw InvalidArgument("linear probe: features must be [N, F] with one row per label");
  if (classes < 2) throw InvalidArgument("linear probe: at least two classes are needed");
  for (int32_t y : labels)
    if (y < 0 || y >= classes) throw InvalidArgument("linear probe: label out of range");
}

torch::Tensor labelTensor(const std::vector<int32_t>& labels) {
  return torch::tensor(std::vector<int64_t>(labels.begin(), labels.end()), torch::kLong);
}

}  // namespace

int effectiveFolds(const std::vector<int32_t>& labels, int folds) {
  std::map<int32_t, int64_t> perClass;
  for (int32_t y : labels) perClass[y]++;
  int64_t smallest = std::numeric_limits<int64_t>::max();
  for (const auto& [k, n] : perClass) smallest = std::min(smallest, n);
  if (perClass.empty()) return 2;
  return int(std::max<int64_t>(2, std::min<int64_t>(folds, smallest)));
}

namespace {

std::vector<float> crossValidatedAt(const torch::Tensor& x, const torch::Tensor& y,
                                    const std::vector<int>& fold, int folds, int64_t classes,
                                    const ProbeOptions& o, double weightDecay,
                                    const std::function<void()>& foldDone) {
  ProbeOptions at = o;
  at.weightDecay = weightDecay;
  std::vector<float> out(fold.size() * size_t(classes), 0.f);
  for (int f = 0; f < folds; ++f) {
    throwIfCancelled(o.cancel);
    std::vector<int64_t> trainRows, testRows;
    for (size_t r = 0; r < fold.size(); ++r)
      (fold[r] == f ? testRows : trainRows).push_back(int64_t(r));
    if (testRows.empty() || trainRows.empty()) continue;
    const auto ti = torch::tensor(trainRows, torch::kLong);
    const auto vi = torch::tensor(testRows, torch::kLong);
    const auto probe =
        fitProbe(x.index_select(0, ti), y.index_select(0, ti), classes, at, o.seed + uint64_t(f));
    const auto probs = probe.probabilities(x.index_select(0, vi));
    const float* pv = probs.data_ptr<float>();
    for (size_t i = 0; i < testRows.size(); ++i)
      std::copy(pv + i * size_t(classes), pv + (i + 1) * size_t(classes),
                out.begin() + std::ptrdiff_t(size_t(testRows[i]) * size_t(classes)));
    foldDone();
  }
  return out;
}

double argmaxAccuracy(const std::vector<float>& p, const std::vector<int32_t>& labels,
                      int64_t classes) {
  if (labels.empty()) return 0;
  int64_t hits = 0;
  for (size_t r = 0; r < labels.size(); ++r) {
    const float* row = p.data() + r * size_t(classes);
    hits += (std::max_element(row, row + classes) - row) == labels[r] ? 1 : 0;
  }
  return double(hits) / double(labels.size());
}

double meanLogLoss(const std::vector<float>& p, const std::vector<int32_t>& labels,
                   int64_t classes) {
  double sum = 0;
  for (size_t r = 0; r < labels.size(); ++r)
    sum -= std::log(std::max(1e-12, double(p[r * size_t(classes) + size_t(labels[r])])));
  return labels.empty() ? 0 : sum / double(labels.size());
}

}  // namespace

CrossValidation crossValidate(const torch::Tensor& features, const std::vector<int32_t>& labels,
                              int64_t classes, const ProbeOptions& o) {
  checkProbeInput(features, labels, classes);
  CrossValidation cv;
  cv.folds = effectiveFolds(labels, o.folds);
  const auto fold = stratifiedFolds(labels, cv.folds, o.seed);
  torch::NoGradGuard outer;
  const auto x = features.to(torch::kCPU, torch::kFloat).contiguous();
  const auto y = labelTensor(labels);
  std::vector<double> grid;
  if (o.weightDecay > 0)
    grid = {o.weightDecay};
  else
    grid.assign(std::begin(kWeightDecayGrid), std::end(kWeightDecayGrid));
  const int steps = cv.folds * int(grid.size());
  int done = 0;
  const auto foldDone = [&] {
    if (o.progress) o.progress(++done, steps);
  };
  double bestLoss = 0;
  for (double wd : grid) {
    auto p = crossValidatedAt(x, y, fold, cv.folds, classes, o, wd, foldDone);
    const double loss = meanLogLoss(p, labels, classes);
    if (cv.probabilities.empty() || loss < bestLoss) {
      bestLoss = loss;
      cv.accuracy = argmaxAccuracy(p, labels, classes);
      cv.probabilities = std::move(p);
      cv.weightDecay = wd;
    }
  }
  return cv;
}

std::vector<float> crossValidatedProbabilities(const torch::Tensor& features,
                                               const std::vector<int32_t>& labels, int64_t classes,
                                               const ProbeOptions& o) {
  return crossValidate(features, labels, classes, o).probabilities;
}

std::vector<float> probeProbabilities(const torch::Tensor& trainFeatures,
                                      const std::vector<int32_t>& trainLabels,
                                      const torch::Tensor& testFeatures, int64_t classes,
                                      const ProbeOptions& o) {
  checkProbeInput(trainFeatures, trainLabels, classes);
  torch::NoGradGuard outer;
  const auto probe = fitProbe(trainFeatures.to(torch::kCPU, torch::kFloat),
                              labelTensor(trainLabels), classes, o, o.seed);
  const auto probs = probe.probabilities(testFeatures.to(torch::kCPU, torch::kFloat));
  return std::vector<float>(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
}

std::vector<DuplicatePair> nearDuplicates(const torch::Tensor& a, const torch::Tensor& b,
                                          double threshold, bool sameSet, size_t limit) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(1))
    throw InvalidArgument("nearDuplicates: feature sets of the same width are needed");
  torch::NoGradGuard g;
  const auto na = torch::nn::functional::normalize(
      a.to(torch::kFloat), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto nb = torch::nn::functional::normalize(
      b.to(torch::kFloat), torch::nn::functional::NormalizeFuncOptions().dim(1));
  std::vector<DuplicatePair> out;
  const int64_t block = 1024;
  for (int64_t r0 = 0; r0 < na.size(0); r0 += block) {
    const int64_t r1 = std::min(na.size(0), r0 + block);
    const auto sim = na.slice(0, r0, r1).matmul(nb.t()).contiguous();
    const auto hits = (sim >= float(threshold)).nonzero();
    const auto h = hits.accessor<int64_t, 2>();
    const auto s = sim.accessor<float, 2>();
    for (int64_t i = 0; i < hits.size(0); ++i) {
      const size_t ra = size_t(r0 + h[i][0]), rb = size_t(h[i][1]);
      if (sameSet && rb <= ra) continue;
      out.push_back({ra, rb, double(s[h[i][0]][h[i][1]])});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const DuplicatePair& x, const DuplicatePair& y) {
    return x.similarity > y.similarity;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::vector<double> outlierScores(const torch::Tensor& features, int k) {
  if (features.dim() != 2) throw InvalidArgument("outlierScores: features must be [N, F]");
  const int64_t n = features.size(0);
  std::vector<double> out(size_t(n), 0.0);
  if (n < 2) return out;
  const int64_t kk = std::min<int64_t>(k, n - 1);
  torch::NoGradGuard g;
  const auto f = torch::nn::functional::normalize(
      features.to(torch::kFloat), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const int64_t block = 1024;
  for (int64_t r0 = 0; r0 < n; r0 += block) {
    const int64_t r1 = std::min(n, r0 + block);
    auto sim = f.slice(0, r0, r1).matmul(f.t());
    sim.diagonal(r0, 0, 1).fill_(-2.0f);  // a row is not its own neighbour (offset: block start)
    const auto top = std::get<0>(sim.topk(kk, 1));
    const auto mean = (1.0 - top.to(torch::kDouble)).mean(1).contiguous();
    for (int64_t i = 0; i < r1 - r0; ++i) out[size_t(r0 + i)] = mean[i].item<double>();
  }
  return out;
}

double outlierFence(const std::vector<double>& scores) {
  if (scores.empty()) return 0;
  std::vector<double> s = scores;
  std::sort(s.begin(), s.end());
  const auto quantile = [&](double q) {  // linear interpolation, as numpy's default
    const double pos = q * double(s.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, s.size() - 1);
    return s[lo] + (pos - double(lo)) * (s[hi] - s[lo]);
  };
  const double q1 = quantile(0.25), q3 = quantile(0.75);
  return q3 + 3.0 * (q3 - q1);
}

// ---- On a dataset ---------------------------------------------------------------------------

DataIssueReport findDataIssues(std::shared_ptr<const Dataset> dataset, const DataIssueOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset& ds = *dataset;
  DataIssueReport report;
  report.backbone = o.backbone;
  const auto say = [&](const std::string& s) {
    if (o.log) o.log(s);
  };
  TrainConfig cfg;
  cfg.backbone = o.backbone;
  cfg.imageSize = o.imageSize;
  StartingModel start = startingModel(cfg, ds, say);
  if (start.weightsPath.empty())
    say("warning: " + o.backbone + " has no pre-trained weights here; random features find little");
  start.net->eval();
  const std::string digest = weightsDigest(start.weightsPath);
  FeatureCache cache(featureCacheDirectory());
  bool allHit = true;
  // Per split, with the keys a training run uses: a linear probe afterwards hits the cache.
  const auto featuresOf = [&](Split split, const char* name) {
    CachedFeatures out;
    const auto idx = ds.indicesOf(split);
    if (idx.empty()) return out;
    const std::string key = featureCacheKey(ds, idx, cfg.backbone, digest, start.preprocess);
    if (o.useCache) {
      if (auto hit = cache.load(key, idx)) return std::move(*hit);
    }
    allHit = false;
    InferenceOptions io;
    io.workers = o.workers;
    io.cancel = o.cancel;
    const std::string stage = std::string("features (") + name + ")";
    io.progress = [&](size_t done, size_t total) {
      if (o.progress) o.progress(stage, done, total);
    };
    out.features = extractFeatures(*start.net, dataset, idx, start.preprocess, out.samples, io);
    throwIfCancelled(o.cancel);
    if (o.useCache) {
      try {
        cache.store(key, out);
      } catch (const Error& e) {
        say(std::string("feature cache not written: ") + e.what());
      }
    }
    return out;
  };
  const CachedFeatures train = featuresOf(Split::Train, "train");
  const CachedFeatures val = featuresOf(Split::Val, "val");
  const CachedFeatures test = featuresOf(Split::Test, "test");
  report.featureSource = allHit ? "cache" : "computed";

  // Labelled training data: train and val together.
  torch::Tensor labelled;
  if (train.features.defined() && val.features.defined())
    labelled = torch::cat({train.features, val.features});
  else
    labelled = train.features.defined() ? train.features : val.features;
  if (!labelled.defined() || labelled.size(0) < 4)
    throw InvalidArgument("data issues: too few training samples to cross-validate");
  report.samples = train.samples;
  report.samples.insert(report.samples.end(), val.samples.begin(), val.samples.end());
  std::vector<int32_t> labels;
  for (size_t s : report.samples) labels.push_back(ds.samples[s].label);
  const auto classes = int64_t(ds.numClasses());

  ProbeOptions po = o.probe;
  po.cancel = o.cancel;
  po.progress = [&](int done, int total) {
    if (o.progress) o.progress("cross-validated probes", size_t(done), size_t(total));
  };
  {
    auto cv = crossValidate(labelled, labels, classes, po);
    report.probabilities = std::move(cv.probabilities);
    report.folds = cv.folds;
    report.probeAccuracy = cv.accuracy;
    report.probeWeightDecay = cv.weightDecay;
  }
  report.labels = findLabelIssues(report.probabilities, labels, classes);
  throwIfCancelled(o.cancel);
  if (test.features.defined() && !test.samples.empty()) {
    // What accepting every suggestion, or excluding every flagged sample, would do to the test
    // accuracy of a lightly regularised probe (as ordinary training is: the strongly
    // regularised finder's probe hardly suffers from noise, so it cannot show a recovery).
    std::vector<int32_t> testLabels, fixedLabels = labels;
    for (size_t s : test.samples) testLabels.push_back(ds.samples[s].label);
    for (const auto& i : report.labels.issues) fixedLabels[i.row] = i.suggested;
    ProbeOptions light = po;
    light.weightDecay = kLightWeightDecay;
    const auto accuracyOf = [&](const torch::Tensor& x, const std::vector<int32_t>& trainLabels) {
      return argmaxAccuracy(probeProbabilities(x, trainLabels, test.features, classes, light),
                            testLabels, classes);
    };
    const std::string stage = "test accuracy with and without the fixes";
    if (o.progress) o.progress(stage, 0, 3);
    report.testAccuracyGiven = accuracyOf(labelled, labels);
    if (o.progress) o.progress(stage, 1, 3);
    report.testAccuracyFixed = accuracyOf(labelled, fixedLabels);
    if (o.progress) o.progress(stage, 2, 3);
    std::vector<int64_t> keep;
    std::vector<int32_t> keptLabels;
    std::vector<bool> flagged(labels.size(), false);
    for (const auto& i : report.labels.issues) flagged[i.row] = true;
    for (size_t r = 0; r < labels.size(); ++r)
      if (!flagged[r]) {
        keep.push_back(int64_t(r));
        keptLabels.push_back(labels[r]);
      }
    report.testAccuracyExcluded =
        accuracyOf(labelled.index_select(0, torch::tensor(keep, torch::kLong)), keptLabels);
    if (o.progress) o.progress(stage, 3, 3);
    report.hasTestAccuracy = true;
  }

  if (o.progress) o.progress("duplicates and outliers", 0, 1);
  // Similarity of features centred on the training mean: post-ReLU features share a large
  // positive common direction that puts merely similar images above 0.99 (the small Fashion-MNIST
  // CNN: 1,861 pairs on the few-shot set against its test split, 20 of them planted copies);
  // a copy stays at 1 whatever is subtracted.
  const auto centre = labelled.mean(0, /*keepdim=*/true);
  if (test.features.defined()) {
    for (const auto& d : nearDuplicates(labelled - centre, test.features.to(torch::kFloat) - centre,
                                        o.duplicateThreshold))
      report.duplicates.push_back({report.samples[d.a], test.samples[d.b], d.similarity});
  }
  if (train.features.defined() && val.features.defined()) {
    for (const auto& d :
         nearDuplicates(train.features.to(torch::kFloat) - centre,
                        val.features.to(torch::kFloat) - centre, o.duplicateThreshold))
      report.duplicates.push_back({train.samples[d.a], val.samples[d.b], d.similarity});
  }
  std::stable_sort(report.duplicates.begin(), report.duplicates.end(),
                   [](const SampleDuplicate& a, const SampleDuplicate& b) {
                     return a.similarity > b.similarity;
                   });
  const auto scores = outlierScores(labelled, o.outlierNeighbours);
  report.outlierFence = outlierFence(scores);
  for (size_t r = 0; r < scores.size(); ++r)
    if (scores[r] > report.outlierFence) report.outliers.push_back({report.samples[r], scores[r]});
  std::stable_sort(
      report.outliers.begin(), report.outliers.end(),
      [](const SampleOutlier& a, const SampleOutlier& b) { return a.score > b.score; });
  if (o.progress) o.progress("duplicates and outliers", 1, 1);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

namespace {
std::string samplePath(const Dataset& ds, size_t i) {
  const auto& s = ds.samples[i];
  if (!s.path.empty()) return s.path;
  if (s.index >= 0) return ds.source.string() + "#" + std::to_string(s.index);
  return "text:" + std::to_string(i);
}
}  // namespace

nlohmann::json dataIssuesJson(const DataIssueReport& r, const Dataset& ds) {
  using nlohmann::json;
  json issues = json::array();
  for (const auto& i : r.labels.issues) {
    const size_t s = r.samples[i.row];
    json e{{"sample", s},
           {"path", samplePath(ds, s)},
           {"given", ds.classNames[size_t(i.given)]},
           {"suggested", ds.classNames[size_t(i.suggested)]},
           {"score", i.score},
           {"given_probability", i.givenProbability},
           {"suggested_probability", i.suggestedProbability}};
    if (!ds.samples[s].text.empty()) e["text"] = ds.samples[s].text;
    issues.push_back(std::move(e));
  }
  json dups = json::array();
  for (const auto& d : r.duplicates)
    dups.push_back({{"sample", d.sample},
                    {"path", samplePath(ds, d.sample)},
                    {"split", splitName(ds.samples[d.sample].split)},
                    {"other", d.other},
                    {"other_path", samplePath(ds, d.other)},
                    {"other_split", splitName(ds.samples[d.other].split)},
                    {"similarity", d.similarity}});
  json outliers = json::array();
  for (const auto& o : r.outliers)
    outliers.push_back(
        {{"sample", o.sample}, {"path", samplePath(ds, o.sample)}, {"score", o.score}});
  return json{{"backbone", r.backbone},
              {"folds", r.folds},
              {"samples", r.samples.size()},
              {"probe_accuracy", r.probeAccuracy},
              {"probe_l2", r.probeWeightDecay},
              {"test_accuracy_given",
               r.hasTestAccuracy ? nlohmann::json(r.testAccuracyGiven) : nlohmann::json()},
              {"test_accuracy_fixed",
               r.hasTestAccuracy ? nlohmann::json(r.testAccuracyFixed) : nlohmann::json()},
              {"test_accuracy_excluded",
               r.hasTestAccuracy ? nlohmann::json(r.testAccuracyExcluded) : nlohmann::json()},
              {"classes", ds.classNames},
              {"thresholds", r.labels.thresholds},
              {"confident_joint", r.labels.counts},
              {"label_issues", issues},
              {"duplicates", dups},
              {"outlier_fence", r.outlierFence},
              {"outliers", outliers},
              {"feature_source", r.featureSource},
              {"seconds", r.seconds}};
}

}  // namespace tlab::core
