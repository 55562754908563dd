#pragma once
// Multi-threaded prefetching batch loader. Worker threads decode, augment and normalise whole
// batches ahead of the consumer; at most `prefetchBatches` batches exist at any time (ready or
// being built), so memory is bounded by batch size x prefetch depth whatever the dataset size.
// Order and pixels depend only on (seed, epoch): the sample order is a seeded shuffle and each
// sample's augmentation stream is derived from (seed, epoch, sample index), so any number of
// workers yields bit-identical batches. Samples that fail to decode are left out of their batch
// and reported through takeSkipped().
//
// Threading: one consumer thread calls startEpoch()/next(); cancel() may be called from any
// thread. The destructor cancels and joins the workers.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/data/Transforms.h"
#include "core/dataset/Dataset.h"

namespace tlab::core {

/// A batch ready for torch::from_blob: images in NCHW float layout (row-major), or for text
/// datasets token ids and attention mask as int64 [N, 2, seqLength] (padded to the longest text
/// of the batch).
struct Batch {
  size_t batchIndex = 0;
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> images;    ///< size() * channels * height * width
  int64_t seqLength = 0;        ///< text: tokens per row (0 for images)
  std::vector<int64_t> tokens;  ///< text: size() * 2 * seqLength
  size_t truncatedTexts = 0;    ///< text: samples cut to the maximum length
  std::vector<int64_t> labels;  ///< one per sample
  std::vector<size_t> indices;  ///< dataset sample indices, in batch order
  size_t size() const { return labels.size(); }
};

struct LoaderOptions {
  size_t batchSize = 32;
  int workers = 2;
  size_t prefetchBatches = 4;  ///< bound on batches in flight (>= 1)
  uint64_t seed = 0;
  bool shuffle = true;
  bool dropLast = false;
  /// Text only: batches of similar length (each window of 50 batches sorted by text length,
  /// then the full batches shuffled), so little compute goes to padding.
  bool groupByLength = false;
  Preprocess preprocess;
  Augmentation augmentation;
};

class DataLoader {
 public:
  /// `indices` selects the samples (e.g. the training split). Throws InvalidArgument for bad
  /// options, or a text dataset without a tokenizer in the preprocessing.
  DataLoader(std::shared_ptr<const Dataset> dataset, std::vector<size_t> indices,
             LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Starts (or restarts) iteration over `epoch`; stops any previous epoch first.
  void startEpoch(uint64_t epoch);
  /// Next batch in order; nullopt at the end of the epoch or after cancel().
  std::optional<Batch> next();
  void cancel();

  size_t batchesPerEpoch() const;
  /// Highest number of batches that were in flight at once (for tests and diagnostics).
  size_t peakBatchesInFlight() const { return peakInFlight_.load(); }
  /// Samples that failed to decode since the last call.
  std::vector<SkippedItem> takeSkipped();

 private:
  void workerLoop();
  Batch buildBatch(size_t batchIndex);
  Batch buildTextBatch(size_t begin, size_t end);
  void groupByLength(uint64_t epoch);
  void stopWorkers();

  std::shared_ptr<const Dataset> dataset_;
  std::vector<size_t> indices_;
  LoaderOptions options_;

  std::vector<size_t> order_;  // sample order of the current epoch
  uint64_t epoch_ = 0;
  size_t numBatches_ = 0;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<size_t, Batch> ready_;
  size_t nextToBuild_ = 0;
  size_t nextToDeliver_ = 0;
  size_t inFlight_ = 0;
  std::atomic<size_t> peakInFlight_{0};
  bool stopping_ = false;
  std::atomic<bool> cancelled_{false};
  std::vector<SkippedItem> skipped_;
  std::vector<std::thread> workers_;
};

}  // namespace tlab::core
