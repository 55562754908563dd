#include "core/explain/Projection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/Errors.h"
#include "core/util/Random.h"

namespace tlab::core {
namespace {

torch::Tensor asFloatMatrix(const torch::Tensor& features, const char* what) {
  if (!features.defined() || features.dim() != 2 || features.size(0) < 1) {
    throw InvalidArgument(std::string(what) + ": expected features [N, D]");
  }
  return features.to(torch::kCPU, torch::kFloat).contiguous();
}

}  // namespace

torch::Tensor pcaProjection(const torch::Tensor& features, int components) {
  torch::NoGradGuard noGrad;
  const auto x = asFloatMatrix(features, "pcaProjection");
  const int64_t n = x.size(0), d = x.size(1);
  const int64_t k = std::min<int64_t>(components, d);
  // Double precision from here: a float reduction's result depends on how many threads summed
  // it, and UMAP (which starts from this) must give the same map for the same seed.
  const auto xd = x.to(torch::kDouble);
  const auto centred = xd - xd.mean(0, true);
  torch::Tensor axes;  // [D, k]
  if (n >= d) {
    const auto cov = torch::matmul(centred.t(), centred);
    auto [values, vectors] = torch::linalg::eigh(cov, "L");  // ascending
    axes = vectors.flip({1}).narrow(1, 0, k);
  } else {
    auto [u, s, vh] = torch::linalg::svd(centred, false, c10::nullopt);
    axes = vh.narrow(0, 0, std::min<int64_t>(k, vh.size(0))).t();
  }
  // Sign convention: each axis's largest-magnitude loading is positive.
  const auto idx = axes.abs().argmax(0);
  const auto signs = axes.gather(0, idx.view({1, -1})).sign().clamp_min(0) * 2 - 1;
  axes = axes * signs;
  auto out = torch::matmul(centred, axes).to(torch::kFloat);
  if (out.size(1) < components) {
    out = torch::cat({out, torch::zeros({n, components - out.size(1)})}, 1);
  }
  return out.contiguous();
}

void nearestNeighbours(const torch::Tensor& points, int k, torch::Tensor& indices,
                       torch::Tensor& distances, const std::atomic<bool>* cancel,
                       const std::function<void(int64_t, int64_t)>& progress) {
  torch::NoGradGuard noGrad;
  const auto x = asFloatMatrix(points, "nearestNeighbours");
  const int64_t n = x.size(0);
  k = int(std::min<int64_t>(k, n - 1));
  if (k < 1) throw InvalidArgument("nearestNeighbours: need at least 2 points");
  indices = torch::empty({n, k}, torch::kInt64);
  distances = torch::empty({n, k}, torch::kFloat);
  // Distances in double, rounded to float at the end: the same neighbours and distances
  // whatever the thread count (a float GEMM's last bits depend on it, and UMAP's layout
  // amplifies any difference).
  const auto xd = x.to(torch::kDouble);
  const auto norms = xd.pow(2).sum(1);
  const int64_t block = 256;
  for (int64_t start = 0; start < n; start += block) {
    throwIfCancelled(cancel);
    const int64_t m = std::min(block, n - start);
    const auto rows = xd.narrow(0, start, m);
    auto d2 = (norms.narrow(0, start, m).unsqueeze(1) + norms.unsqueeze(0) -
               2 * torch::matmul(rows, xd.t()))
                  .clamp_min_(0)
                  .to(torch::kFloat)
                  .contiguous();
    float* rowsPtr = d2.data_ptr<float>();  // itself is not its own neighbour
    for (int64_t r = 0; r < m; ++r)
      rowsPtr[r * n + start + r] = std::numeric_limits<float>::infinity();
    auto [values, where] = d2.topk(k, 1, /*largest=*/false, /*sorted=*/true);
    indices.narrow(0, start, m).copy_(where);
    distances.narrow(0, start, m).copy_(values.sqrt());
    if (progress) progress(start + m, n);
  }
}

double knnAccuracy(const torch::Tensor& points, const std::vector<int64_t>& labels, int k,
                   int64_t maxQueries, uint64_t seed) {
  torch::NoGradGuard noGrad;
  const auto x = asFloatMatrix(points, "knnAccuracy");
  const int64_t n = x.size(0);
  if (int64_t(labels.size()) != n) throw InvalidArgument("knnAccuracy: one label per point");
  if (n < 2) return 0.0;
  k = int(std::min<int64_t>(k, n - 1));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  const int64_t q = std::min(n, std::max<int64_t>(1, maxQueries));
  Rng rng(seed);
  for (int64_t i = 0; i < q; ++i) {  // partial Fisher-Yates: q distinct random rows
    std::swap(order[size_t(i)], order[size_t(i + int64_t(rng.below(uint64_t(n - i))))]);
  }
  const auto norms = x.pow(2).sum(1);
  int64_t correct = 0;
  const int64_t block = 1024;
  for (int64_t start = 0; start < q; start += block) {
    const int64_t m = std::min(block, q - start);
    const auto ids =
        torch::tensor(std::vector<int64_t>(order.begin() + start, order.begin() + start + m));
    const auto rows = x.index_select(0, ids);
    auto d2 = norms.index_select(0, ids).unsqueeze(1) + norms.unsqueeze(0) -
              2 * torch::matmul(rows, x.t());
    d2 = d2.contiguous();
    float* rowsPtr = d2.data_ptr<float>();
    for (int64_t r = 0; r < m; ++r) {
      rowsPtr[r * n + order[size_t(start + r)]] = std::numeric_limits<float>::infinity();
    }
    const auto nearest = std::get<1>(d2.topk(k, 1, false, true)).contiguous();
    const int64_t* nb = nearest.data_ptr<int64_t>();
    for (int64_t r = 0; r < m; ++r) {
      std::map<int64_t, int> votes;
      int best = 0;
      int64_t winner = -1;
      for (int j = 0; j < k; ++j) {  // nearest first: on a tie the nearer class wins
        const int v = ++votes[labels[size_t(nb[r * k + j])]];
        if (v > best) best = v, winner = labels[size_t(nb[r * k + j])];
      }
      if (winner == labels[size_t(order[size_t(start + r)])]) ++correct;
    }
  }
  return double(correct) / double(q);
}

std::pair<double, double> umapCurve(double minDist) {
  // Least squares of 1 / (1 + a d^(2b)) against 1 (d < minDist) or exp(-(d - minDist)) on
  // 300 points of [0, 3]; a coarse grid, then coordinate refinement.
  std::vector<double> d(300), y(300);
  for (int i = 0; i < 300; ++i) {
    d[i] = 3.0 * i / 299.0;
    y[i] = d[i] < minDist ? 1.0 : std::exp(-(d[i] - minDist));
  }
  const auto loss = [&](double a, double b) {
    double s = 0;
    for (int i = 0; i < 300; ++i) {
      const double f = 1.0 / (1.0 + a * std::pow(d[i], 2 * b));
      s += (f - y[i]) * (f - y[i]);
    }
    return s;
  };
  double a = 1, b = 1, best = loss(a, b);
  for (double la = -2; la <= 3; la += 0.05) {
    for (double bb = 0.2; bb <= 2.5; bb += 0.02) {
      const double l = loss(std::exp(la), bb);
      if (l < best) best = l, a = std::exp(la), b = bb;
    }
  }
  for (double step = 0.02; step > 1e-7; step /= 2) {
    for (bool moved = true; moved;) {
      moved = false;
      for (auto [da, db] : {std::pair{step, 0.0}, {-step, 0.0}, {0.0, step}, {0.0, -step}}) {
        const double na = a * std::exp(da), nb = b + db;
        const double l = loss(na, nb);
        if (nb > 0 && l < best) best = l, a = na, b = nb, moved = true;
      }
    }
  }
  return {a, b};
}

torch::Tensor umapProjection(const torch::Tensor& features, const UmapOptions& o) {
  torch::NoGradGuard noGrad;
  auto x = asFloatMatrix(features, "umapProjection");
  const int64_t n = x.size(0);
  if (n < 3) return pcaProjection(x, 2);
  const auto report = [&](const char* stage, int64_t done, int64_t total) {
    if (o.progress) o.progress(stage, done, total);
  };
  if (o.pcaDims > 0 && x.size(1) > o.pcaDims) x = pcaProjection(x, o.pcaDims);

  // 1. The k-nearest-neighbour graph with UMAP's per-point scale: distances beyond the
  //    nearest neighbour (rho) decay with a sigma that makes the weights sum to log2(k).
  const int k = int(std::min<int64_t>(std::max(2, o.neighbors), n - 1));
  torch::Tensor nnIdx, nnDist;
  nearestNeighbours(x, k, nnIdx, nnDist, o.cancel,
                    [&](int64_t done, int64_t total) { report("neighbours", done, total); });
  const int64_t* idx = nnIdx.data_ptr<int64_t>();
  const float* dist = nnDist.data_ptr<float>();
  const double target = std::log2(double(k));
  const double meanDist = nnDist.to(torch::kDouble).mean().item<double>();
  std::vector<std::pair<uint64_t, float>> directed;  // key i * n + j, weight
  directed.reserve(size_t(n * k));
  for (int64_t i = 0; i < n; ++i) {
    const float* di = dist + i * k;
    double rho = 0;
    for (int j = 0; j < k; ++j) {
      if (di[j] > 0) {
        rho = di[j];
        break;
      }
    }
    double lo = 0, hi = std::numeric_limits<double>::infinity(), sigma = 1;
    for (int it = 0; it < 64; ++it) {
      double sum = 0;
      for (int j = 0; j < k; ++j) sum += std::exp(-std::max(0.0, di[j] - rho) / sigma);
      if (std::abs(sum - target) < 1e-5) break;
      if (sum > target) {
        hi = sigma;
        sigma = (lo + hi) / 2;
      } else {
        lo = sigma;
        sigma = std::isinf(hi) ? sigma * 2 : (lo + hi) / 2;
      }
    }
    sigma = std::max(sigma, 1e-3 * meanDist);
    for (int j = 0; j < k; ++j) {
      const double w = std::exp(-std::max(0.0, di[j] - rho) / sigma);
      directed.emplace_back(uint64_t(i) * uint64_t(n) + uint64_t(idx[i * k + j]), float(w));
    }
  }
  // 2. Fuzzy union: w_ij + w_ji - w_ij w_ji, kept in both directions.
  std::vector<std::pair<uint64_t, float>> both;
  both.reserve(directed.size() * 2);
  for (const auto& [key, w] : directed) {
    const uint64_t i = key / uint64_t(n), j = key % uint64_t(n);
    both.emplace_back(key, w);
    both.emplace_back(j * uint64_t(n) + i, -w);  // the transposed entry, marked by its sign
  }
  std::sort(both.begin(), both.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<int64_t> head, tail;
  std::vector<float> weight;
  for (size_t s = 0; s < both.size();) {
    size_t e = s;
    float forward = 0, backward = 0;
    while (e < both.size() && both[e].first == both[s].first) {
      if (both[e].second >= 0)
        forward = std::max(forward, both[e].second);
      else
        backward = std::max(backward, -both[e].second);
      ++e;
    }
    head.push_back(int64_t(both[s].first / uint64_t(n)));
    tail.push_back(int64_t(both[s].first % uint64_t(n)));
    weight.push_back(forward + backward - forward * backward);
    s = e;
  }
  const int epochs = o.epochs > 0 ? o.epochs : (n <= 10000 ? 500 : 200);
  const float maxW = *std::max_element(weight.begin(), weight.end());
  std::vector<int64_t> eh, et;
  std::vector<double> perSample;
  for (size_t e = 0; e < weight.size(); ++e) {
    if (weight[e] < maxW / float(epochs)) continue;  // would never be sampled
    eh.push_back(head[e]);
    et.push_back(tail[e]);
    perSample.push_back(double(maxW) / weight[e]);
  }

  // 3. Layout: PCA start scaled to [-10, 10], then SGD on the cross-entropy with negative
  //    sampling; learning rate falls linearly to 0.
  auto init = pcaProjection(x, 2);
  init = init * (10.0 / init.abs().max().clamp_min(1e-12));
  std::vector<float> y(init.data_ptr<float>(), init.data_ptr<float>() + n * 2);
  const auto [a, b] = umapCurve(o.minDist);
  const size_t edges = eh.size();
  std::vector<double> nextSample(perSample), perNegative(edges), nextNegative(edges);
  for (size_t e = 0; e < edges; ++e) {
    perNegative[e] = perSample[e] / std::max(1, o.negativeSamples);
    nextNegative[e] = perNegative[e];
  }
  Rng rng(mixSeed(o.seed, 0x554d4150));  // "UMAP"
  const auto clip = [](double v) { return std::clamp(v, -4.0, 4.0); };
  for (int epoch = 0; epoch < epochs; ++epoch) {
    throwIfCancelled(o.cancel);
    const double lr = 1.0 - double(epoch) / double(epochs);
    for (size_t e = 0; e < edges; ++e) {
      if (nextSample[e] > epoch) continue;
      float* p = &y[size_t(eh[e]) * 2];
      float* q = &y[size_t(et[e]) * 2];
      double dx = p[0] - q[0], dy = p[1] - q[1], d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const double pb = std::pow(d2, b);  // d^(2b); d^(2b - 2) = pb / d2
        const double c = -2.0 * a * b * (pb / d2) / (a * pb + 1.0);
        const double gx = clip(c * dx) * lr, gy = clip(c * dy) * lr;
        p[0] += float(gx), p[1] += float(gy);
        q[0] -= float(gx), q[1] -= float(gy);
      }
      nextSample[e] += perSample[e];
      const int negatives = int((epoch - nextNegative[e]) / perNegative[e]);
      for (int s = 0; s < negatives; ++s) {
        const int64_t other = int64_t(rng.below(uint64_t(n)));
        if (other == eh[e]) continue;
        const float* r = &y[size_t(other) * 2];
        dx = p[0] - r[0], dy = p[1] - r[1], d2 = dx * dx + dy * dy;
        double gx = 4.0 * lr, gy = 4.0 * lr;
        if (d2 > 0) {
          const double c = 2.0 * b / ((0.001 + d2) * (a * std::pow(d2, b) + 1.0));
          gx = clip(c * dx) * lr, gy = clip(c * dy) * lr;
        }
        p[0] += float(gx), p[1] += float(gy);
      }
      nextNegative[e] += negatives * perNegative[e];
    }
    if ((epoch + 1) % 10 == 0 || epoch + 1 == epochs) report("layout", epoch + 1, epochs);
  }
  return torch::from_blob(y.data(), {n, 2}, torch::kFloat).clone();
}

}  // namespace tlab::core
