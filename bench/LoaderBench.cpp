// Loader throughput: JPEG decode + training augmentation (random resized crop, flip, colour
// jitter) + normalisation + batching at 224x224, with 1 and 2 worker threads.
//   tlab_bench_loader [--images N] [--folder DIR | --dataset PATH] [--epochs E] [--size S]
//                     [--inference]
// Without --folder or --dataset it writes N synthetic 500x375 JPEGs (ImageNet's typical size)
// to a temp dir. --dataset reads any supported dataset; --inference drops the augmentation
// (what feature extraction and evaluation load).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/DataLoader.h"
#include "core/dataset/Readers.h"
#include "core/runtime/Runtime.h"

namespace fs = std::filesystem;
using namespace tlab::core;

namespace {

fs::path makeJpegs(int count) {
  const fs::path dir = fs::temp_directory_path() / ("tlab-bench-" + std::to_string(::getpid()));
  cv::Mat img(375, 500, CV_8UC3);
  cv::RNG rng(1);
  for (int i = 0; i < count; ++i) {
    rng.fill(img, cv::RNG::UNIFORM, 0, 255);
    cv::GaussianBlur(img, img, cv::Size(0, 0), 3);  // photo-like frequency content
    cv::circle(img, {250, 187}, 40 + i % 100, cv::Scalar(i % 255, 80, 200), -1);
    const fs::path file = dir / ("class" + std::to_string(i % 4)) / (std::to_string(i) + ".jpg");
    fs::create_directories(file.parent_path());
    cv::imwrite(file.string(), img, {cv::IMWRITE_JPEG_QUALITY, 90});
  }
  return dir;
}

double run(const std::shared_ptr<const Dataset>& ds, int workers, int epochs, int size,
           bool augment) {
  LoaderOptions o;
  o.batchSize = 32;
  o.workers = workers;
  o.prefetchBatches = 4;
  o.seed = 1;
  o.preprocess.inputSize = size;
  o.preprocess.channels = 3;
  o.augmentation.enabled = augment;
  o.augmentation.brightness = o.augmentation.contrast = o.augmentation.saturation = 0.2;
  std::vector<size_t> all(ds->size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  DataLoader loader(ds, all, o);
  loader.startEpoch(1000);  // warm-up: page cache, thread start, CPU clocks
  while (loader.next()) {
  }
  size_t images = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int e = 0; e < epochs; ++e) {
    loader.startEpoch(uint64_t(e));
    while (auto b = loader.next()) images += b->size();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return double(images) / s;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 512, epochs = 2, size = 224;
  bool augment = true;
  std::string folder, dataset;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--inference")) augment = false;
    if (i + 1 >= argc) break;
    if (!std::strcmp(argv[i], "--images")) count = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--folder")) folder = argv[i + 1];
    if (!std::strcmp(argv[i], "--dataset")) dataset = argv[i + 1];
    if (!std::strcmp(argv[i], "--epochs")) epochs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--size")) size = std::atoi(argv[i + 1]);
  }
  const RuntimeReport rt = configureRuntime();
  std::printf("runtime: %s, %d threads, GEMM %.0f GFLOP/s\n", blasKindName(rt.blasKind),
              rt.intraOpThreads, rt.gemmGflops);
  const bool generated = folder.empty() && dataset.empty();
  const fs::path dir = generated ? makeJpegs(count) : fs::path(folder);
  auto ds = std::make_shared<const Dataset>(dataset.empty() ? readImageFolder(dir)
                                                            : openDataset(dataset));
  std::printf("dataset: %zu images in %s\n", ds->size(),
              dataset.empty() ? dir.c_str() : dataset.c_str());
  for (int workers : {1, 2}) {
    const double ips = run(ds, workers, epochs, size, augment);
    std::printf("loader %dx%d %s batch 32, %d worker(s): %.0f images/s\n", size, size,
                augment ? "train-augment" : "inference", workers, ips);
  }
  if (generated) fs::remove_all(dir);
  return 0;
}
