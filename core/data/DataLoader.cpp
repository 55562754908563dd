#include "core/data/DataLoader.h"

#include <algorithm>
#include <numeric>

#include "core/Errors.h"
#include "core/text/WordPieceTokenizer.h"

namespace tlab::core {

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, std::vector<size_t> indices,
                       LoaderOptions options)
    : dataset_(std::move(dataset)), indices_(std::move(indices)), options_(std::move(options)) {
  if (!dataset_) throw InvalidArgument("DataLoader: no dataset");
  if (dataset_->modality == Modality::Text && !options_.preprocess.tokenizer) {
    throw InvalidArgument("DataLoader: " + dataset_->source.string() +
                          " is a text dataset; it needs a text backbone (tokenizer)");
  }
  if (dataset_->modality == Modality::Image && options_.preprocess.tokenizer) {
    throw InvalidArgument("DataLoader: " + dataset_->source.string() +
                          " is an image dataset; a text backbone cannot read it");
  }
  if (options_.batchSize == 0 || options_.prefetchBatches == 0 || options_.workers < 1) {
    throw InvalidArgument("DataLoader: batch size, prefetch depth and workers must be >= 1");
  }
  for (size_t i : indices_) {
    if (i >= dataset_->size()) throw InvalidArgument("DataLoader: sample index out of range");
  }
}

DataLoader::~DataLoader() { stopWorkers(); }

size_t DataLoader::batchesPerEpoch() const {
  const size_t n = indices_.size(), b = options_.batchSize;
  return options_.dropLast ? n / b : (n + b - 1) / b;
}

void DataLoader::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void DataLoader::startEpoch(uint64_t epoch) {
  stopWorkers();
  order_ = indices_;
  if (options_.shuffle) {
    Rng rng(mixSeed(options_.seed, epoch, 0x5EED));
    shuffleInPlace(order_, rng);
  }
  if (options_.groupByLength && dataset_->modality == Modality::Text) groupByLength(epoch);
  epoch_ = epoch;
  numBatches_ = batchesPerEpoch();
  ready_.clear();
  nextToBuild_ = nextToDeliver_ = inFlight_ = 0;
  stopping_ = false;
  cancelled_ = false;
  const int n = std::max(1, std::min<int>(options_.workers, int(std::max<size_t>(1, numBatches_))));
  for (int i = 0; i < n; ++i) workers_.emplace_back(&DataLoader::workerLoop, this);
}

void DataLoader::groupByLength(uint64_t epoch) {
  const size_t bs = options_.batchSize, window = bs * 50;
  auto length = [&](size_t i) { return dataset_->samples[i].text.size(); };
  for (size_t w = 0; w < order_.size(); w += window) {
    const auto end = order_.begin() + ptrdiff_t(std::min(order_.size(), w + window));
    std::stable_sort(order_.begin() + ptrdiff_t(w), end,
                     [&](size_t a, size_t b) { return length(a) < length(b); });
  }
  // Full batches in a seeded random order; a partial last batch stays last.
  std::vector<size_t> batches(order_.size() / bs);
  std::iota(batches.begin(), batches.end(), size_t(0));
  if (options_.shuffle) {
    Rng rng(mixSeed(options_.seed, epoch, 0xB0C5));
    shuffleInPlace(batches, rng);
  }
  std::vector<size_t> grouped;
  grouped.reserve(order_.size());
  for (size_t b : batches) {
    grouped.insert(grouped.end(), order_.begin() + ptrdiff_t(b * bs),
                   order_.begin() + ptrdiff_t((b + 1) * bs));
  }
  grouped.insert(grouped.end(), order_.begin() + ptrdiff_t(batches.size() * bs), order_.end());
  order_ = std::move(grouped);
}

void DataLoader::workerLoop() {
  for (;;) {
    size_t batchIndex;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Only start a batch while fewer than prefetchBatches exist: the memory bound.
      cv_.wait(lock, [&] {
        return stopping_ || nextToBuild_ >= numBatches_ || inFlight_ < options_.prefetchBatches;
      });
      if (stopping_ || nextToBuild_ >= numBatches_) return;
      batchIndex = nextToBuild_++;
      ++inFlight_;
      size_t peak = peakInFlight_.load();
      while (inFlight_ > peak && !peakInFlight_.compare_exchange_weak(peak, inFlight_)) {
      }
    }
    Batch batch;
    try {
      batch = buildBatch(batchIndex);
    } catch (const std::exception& e) {
      // A batch that cannot be built (a tokenizer or allocation failure) is skipped with its
      // reason; the worker thread must never die with an exception.
      batch = Batch{};
      batch.batchIndex = batchIndex;
      std::lock_guard<std::mutex> lock(mutex_);
      skipped_.push_back({"batch " + std::to_string(batchIndex), 0, e.what()});
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(batchIndex, std::move(batch));
    }
    cv_.notify_all();
  }
}

Batch DataLoader::buildBatch(size_t batchIndex) {
  const Preprocess& p = options_.preprocess;
  const size_t begin = batchIndex * options_.batchSize;
  const size_t end = std::min(order_.size(), begin + options_.batchSize);
  if (p.tokenizer) {
    Batch b = buildTextBatch(begin, end);
    b.batchIndex = batchIndex;
    return b;
  }
  Batch b;
  b.batchIndex = batchIndex;
  b.channels = p.channels;
  b.height = b.width = p.inputSize;
  const size_t per = size_t(p.channels) * p.inputSize * p.inputSize;
  b.images.resize((end - begin) * per);
  std::vector<SkippedItem> failed;
  for (size_t k = begin; k < end && !cancelled_.load(); ++k) {
    const size_t sample = order_[k];
    const DecodedImage img = dataset_->loadImage(sample);
    if (!img.ok()) {
      failed.push_back({dataset_->samples[sample].path, 0, img.error});
      continue;
    }
    try {
      Rng rng(augmentationSeed(options_.seed, epoch_, sample));
      const cv::Mat prepared = prepareImage(img.pixels, p, options_.augmentation, rng);
      normalizeToChw(prepared, p, b.images.data() + b.size() * per);
    } catch (const std::exception& e) {  // never let a worker thread die on one sample
      failed.push_back({dataset_->samples[sample].path, 0, e.what()});
      continue;
    }
    b.labels.push_back(dataset_->samples[sample].label);
    b.indices.push_back(sample);
  }
  b.images.resize(b.size() * per);
  if (!failed.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    skipped_.insert(skipped_.end(), failed.begin(), failed.end());
  }
  return b;
}

Batch DataLoader::buildTextBatch(size_t begin, size_t end) {
  Batch b;
  std::vector<std::string_view> texts;
  for (size_t k = begin; k < end; ++k) {
    const Sample& s = dataset_->samples[order_[k]];
    texts.emplace_back(s.text);
    b.labels.push_back(s.label);
    b.indices.push_back(order_[k]);
  }
  const TokenBatch t = options_.preprocess.tokenizer->encodeBatch(
      texts, size_t(options_.preprocess.inputSize), Padding::Longest);
  b.seqLength = t.length;
  b.truncatedTexts = t.truncated;
  b.tokens.resize(size_t(t.count * 2 * t.length));
  for (int64_t i = 0; i < t.count; ++i) {
    const auto src = size_t(i * t.length);
    std::copy_n(t.ids.begin() + ptrdiff_t(src), t.length, b.tokens.begin() + ptrdiff_t(2 * src));
    std::copy_n(t.mask.begin() + ptrdiff_t(src), t.length,
                b.tokens.begin() + ptrdiff_t(2 * src + size_t(t.length)));
  }
  return b;
}

std::optional<Batch> DataLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (cancelled_.load() || nextToDeliver_ >= numBatches_) return std::nullopt;
    cv_.wait(lock, [&] { return cancelled_.load() || ready_.count(nextToDeliver_) > 0; });
    if (cancelled_.load()) return std::nullopt;
    auto node = ready_.extract(nextToDeliver_++);
    --inFlight_;
    lock.unlock();
    cv_.notify_all();
    if (!node.mapped().labels.empty()) return std::move(node.mapped());
    lock.lock();  // every sample of this batch failed: move on to the next one
  }
}

void DataLoader::cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

std::vector<SkippedItem> DataLoader::takeSkipped() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(skipped_, {});
}

}  // namespace tlab::core
