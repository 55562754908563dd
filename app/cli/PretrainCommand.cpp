// `transferlab-cli pretrain`: trains a built-in architecture from scratch on a dataset's train
// split and saves the weights as safetensors (how resources/small_cnn_fmnist.safetensors is made).
#include <CLI/CLI.hpp>
#include <iomanip>
#include <sstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/runtime/Runtime.h"
#include "core/train/SupervisedFit.h"
#include "core/weights/StateDict.h"
#include "core/zoo/BackboneCatalog.h"

namespace tlab::cli {
using nlohmann::json;
namespace {

struct PretrainArgs {
  std::string dataset = "/usr/share/datasets/fashion-mnist";
  std::string backbone = "small_cnn";
  std::string out;
  int epochs = 8;
  size_t batchSize = 128;
  double lr = 2e-3;
  uint64_t seed = 1;
  bool json = false;
};

void pretrain(const PretrainArgs& a, int& exitCode) {
  core::configureRuntime({0, false});
  const auto catalog = core::BackboneCatalog::loadDefault();
  const auto& entry = catalog.get(a.backbone);
  auto dataset = std::make_shared<core::Dataset>(core::openDataset(a.dataset));
  dataset->validate();
  const auto train = dataset->indicesOf(core::Split::Train);
  const auto test = dataset->indicesOf(core::Split::Test);
  if (train.empty() || test.empty()) throw core::InvalidArgument(a.dataset + ": needs a train and a test split");
  auto net = core::createArchitecture(entry.architecture, int64_t(dataset->numClasses()), entry.channels);
  core::FitOptions fo;
  fo.epochs = a.epochs;
  fo.batchSize = a.batchSize;
  fo.learningRate = a.lr;
  fo.seed = a.seed;
  fo.augmentation.enabled = true;
  fo.augmentation.minScale = 0.7;
  fo.augmentation.minRatio = 0.85;
  fo.augmentation.maxRatio = 1.0 / 0.85;
  const auto history = core::fitClassifier(*net, dataset, train, test, entry.preprocess(), fo, [&](const core::FitEpoch& e) {
    if (a.json) {
      std::cout << json{{"epoch", e.epoch}, {"train_loss", e.trainLoss}, {"train_accuracy", e.trainAccuracy},
                        {"test_accuracy", e.evalAccuracy}, {"seconds", e.seconds}, {"images_per_second", e.imagesPerSecond}}
                       .dump()
                << std::endl;
    } else {
      std::cout << "epoch " << e.epoch << "/" << a.epochs << std::fixed << std::setprecision(4) << "  loss "
                << e.trainLoss << "  train acc " << e.trainAccuracy << "  test acc " << e.evalAccuracy
                << std::setprecision(1) << "  " << e.seconds << " s (" << e.imagesPerSecond << " img/s)" << std::endl;
    }
  });
  const double accuracy = history.back().evalAccuracy;
  std::ostringstream acc;
  acc << std::fixed << std::setprecision(4) << accuracy;
  core::writeSafetensors(a.out, core::stateDictOf(*net),
                         {{"architecture", entry.architecture}, {"dataset", a.dataset},
                          {"classes", json(dataset->classNames).dump()}, {"epochs", std::to_string(a.epochs)},
                          {"seed", std::to_string(a.seed)}, {"test_accuracy", acc.str()},
                          {"made_by", "transferlab-cli pretrain"}});
  if (!a.json) std::cout << "saved " << a.out << " (test accuracy " << acc.str() << ")\n";
  exitCode = 0;
}

}  // namespace

void addPretrainCommand(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<PretrainArgs>();
  auto* cmd = app.add_subcommand("pretrain", "Train a built-in architecture from scratch and save its weights");
  cmd->add_option("--dataset", a->dataset, "Dataset with train and test splits (default: Fashion-MNIST)");
  cmd->add_option("--backbone", a->backbone, "Catalog id of the architecture (default small_cnn)");
  cmd->add_option("--out", a->out, "Output .safetensors file")->required();
  cmd->add_option("--epochs", a->epochs, "Epochs")->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", a->batchSize, "Batch size")->check(CLI::PositiveNumber);
  cmd->add_option("--lr", a->lr, "Peak learning rate (AdamW, cosine decay)");
  cmd->add_option("--seed", a->seed, "Seed (initialisation, order, augmentation)");
  cmd->add_flag("--json", a->json, "One JSON object per epoch");
  cmd->callback([a, &exitCode] { pretrain(*a, exitCode); });
}

}  // namespace tlab::cli
