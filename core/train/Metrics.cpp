#include "core/train/Metrics.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/Errors.h"
#include "core/dataset/Dataset.h"

namespace tlab::core {

EvaluationResult computeMetrics(const std::vector<std::string>& classNames,
                                const std::vector<float>& probs, const std::vector<int32_t>& labels,
                                const std::vector<size_t>& samples, int topK) {
  const size_t c = classNames.size(), n = labels.size();
  if (c == 0 || probs.size() != n * c || samples.size() != n) {
    throw InvalidArgument("computeMetrics: inconsistent sizes");
  }
  EvaluationResult r;
  r.classNames = classNames;
  r.count = int64_t(n);
  r.topK = std::max(1, std::min<int>(topK, int(c)));
  r.confusion.assign(c, std::vector<int64_t>(c, 0));
  int64_t correct = 0, topHits = 0;
  double lossSum = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* p = probs.data() + i * c;
    const int32_t y = labels[i];
    if (y < 0 || size_t(y) >= c) throw InvalidArgument("computeMetrics: label out of range");
    const int32_t pred = int32_t(std::max_element(p, p + c) - p);
    ++r.confusion[size_t(y)][size_t(pred)];
    correct += pred == y;
    // Rank of the true class: how many classes score strictly higher.
    int higher = 0;
    for (size_t k = 0; k < c; ++k) higher += p[k] > p[y];
    topHits += higher < r.topK;
    const float loss = -std::log(std::max(p[y], 1e-12f));
    lossSum += loss;
    r.predictions.push_back({samples[i], y, pred, p[pred], p[y], loss});
  }
  r.loss = n ? lossSum / double(n) : 0;
  r.accuracy = n ? double(correct) / double(n) : 0;
  r.topKAccuracy = n ? double(topHits) / double(n) : 0;
  double f1Sum = 0;
  int counted = 0;
  for (size_t k = 0; k < c; ++k) {
    int64_t tp = r.confusion[k][k], predicted = 0, actual = 0;
    for (size_t j = 0; j < c; ++j) {
      predicted += r.confusion[j][k];
      actual += r.confusion[k][j];
    }
    ClassMetrics m;
    m.name = classNames[k];
    m.support = actual;
    m.precision = predicted ? double(tp) / double(predicted) : 0;
    m.recall = actual ? double(tp) / double(actual) : 0;
    m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
    if (actual > 0 || predicted > 0) {
      f1Sum += m.f1;
      ++counted;
    }
    r.perClass.push_back(m);
  }
  r.macroF1 = counted ? f1Sum / counted : 0;
  return r;
}

nlohmann::json metricsJson(const EvaluationResult& r) {
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& m : r.perClass) {
    classes.push_back({{"name", m.name},
                       {"precision", m.precision},
                       {"recall", m.recall},
                       {"f1", m.f1},
                       {"support", m.support}});
  }
  return {{"accuracy", r.accuracy},
          {"macro_f1", r.macroF1},
          {"loss", r.loss},
          {"top_k", r.topK},
          {"top_k_accuracy", r.topKAccuracy},
          {"count", r.count},
          {"classes", r.classNames},
          {"per_class", classes},
          {"confusion_matrix", r.confusion}};
}

namespace {
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}
}  // namespace

std::string predictionsCsv(const EvaluationResult& r, const Dataset& ds) {
  std::ostringstream o;
  o << "sample,path,true_label,predicted_label,probability,true_probability,loss\n";
  for (const auto& p : r.predictions) {
    const Sample& s = ds.samples.at(p.sample);
    const std::string where =
        !s.path.empty() ? s.path : ds.source.string() + "#" + std::to_string(s.index);
    o << p.sample << "," << quote(where) << "," << quote(r.classNames[size_t(p.label)]) << ","
      << quote(r.classNames[size_t(p.predicted)]) << "," << p.probability << ","
      << p.trueProbability << "," << p.loss << "\n";
  }
  return o.str();
}

std::string confusionCsv(const EvaluationResult& r) {
  std::ostringstream o;
  o << "true\\predicted";
  for (const auto& n : r.classNames) o << "," << quote(n);
  o << "\n";
  for (size_t i = 0; i < r.confusion.size(); ++i) {
    o << quote(r.classNames[i]);
    for (auto v : r.confusion[i]) o << "," << v;
    o << "\n";
  }
  return o.str();
}

}  // namespace tlab::core
