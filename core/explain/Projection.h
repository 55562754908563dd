#pragma once
// 2-D maps of feature vectors for the embedding view: PCA (exact, via the covariance's
// eigenvectors) and UMAP (McInnes et al. 2018: a fuzzy k-nearest-neighbour graph laid out by
// stochastic gradient descent with negative sampling), seeded and cancellable, plus a k-NN
// accuracy on the map that says in one number how well the classes separate.
#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tlab::core {

/// The first `components` principal-component coordinates of `features` [N, D] (float),
/// [N, components]. Each axis's sign is fixed (its largest loading positive), so the map does
/// not flip between runs.
torch::Tensor pcaProjection(const torch::Tensor& features, int components = 2);

struct UmapOptions {
  int neighbors = 15;
  double minDist = 0.1;  ///< a, b of the low-dimensional kernel are fitted to it
  int epochs = 0;        ///< 0: 500 below 10,000 points, else 200 (as umap-learn)
  int pcaDims = 50;      ///< features are first reduced to this many PCA dimensions (0: not)
  int negativeSamples = 5;
  uint64_t seed = 0;
  const std::atomic<bool>* cancel = nullptr;
  /// stage ("neighbours", "layout"), done, total
  std::function<void(const std::string&, int64_t, int64_t)> progress;
};
/// UMAP of `features` [N, D] -> [N, 2]. Deterministic for a given seed (single-threaded layout).
torch::Tensor umapProjection(const torch::Tensor& features, const UmapOptions& options = {});

/// The k nearest neighbours of every row of `points` [N, D] among all rows (itself excluded):
/// indices and Euclidean distances [N, k], nearest first. Blocked, so memory stays O(N k).
void nearestNeighbours(const torch::Tensor& points, int k, torch::Tensor& indices,
                       torch::Tensor& distances, const std::atomic<bool>* cancel = nullptr,
                       const std::function<void(int64_t, int64_t)>& progress = {});

/// Leave-one-out k-NN accuracy of `labels` [N] on `points` [N, D], over at most `maxQueries`
/// seeded query rows (all rows when N is smaller).
double knnAccuracy(const torch::Tensor& points, const std::vector<int64_t>& labels, int k = 5,
                   int64_t maxQueries = 5000, uint64_t seed = 0);

/// (a, b) of UMAP's curve 1 / (1 + a d^(2b)) fitted to the min_dist rule (spread 1).
std::pair<double, double> umapCurve(double minDist);

}  // namespace tlab::core
