// `transferlab-cli pretrain`: trains a built-in architecture from scratch on a dataset's train
// split and saves the weights as safetensors (how resources/small_cnn_fmnist.safetensors is made).
#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/runtime/Runtime.h"
#include "core/train/Trainer.h"
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

// Prints each epoch (the validation column is the test split: pretraining has no other).
class PretrainObserver : public core::TrainerObserver {
 public:
  PretrainObserver(bool json, int epochs) : json_(json), epochs_(epochs) {}
  void onEpoch(const core::EpochMetrics& e) override {
    if (json_) {
      std::cout << json{{"epoch", e.epoch},
                        {"train_loss", e.trainLoss},
                        {"train_accuracy", e.trainAccuracy},
                        {"test_accuracy", e.valAccuracy},
                        {"seconds", e.seconds}}
                       .dump()
                << std::endl;
    } else {
      std::cout << "epoch " << e.epoch << "/" << epochs_ << std::fixed << std::setprecision(4)
                << "  loss " << e.trainLoss << "  train acc " << e.trainAccuracy << "  test acc "
                << e.valAccuracy << std::setprecision(1) << "  " << e.seconds << " s" << std::endl;
    }
  }
  void onLog(const std::string& line) override {
    if (!json_) std::cerr << line << "\n";
  }

 private:
  bool json_;
  int epochs_;
};

// The training run pretraining is: from scratch, AdamW with cosine decay, mild crops, every
// epoch measured on the test split (as validation), the last epoch's weights kept.
core::TrainConfig pretrainConfig(const PretrainArgs& a) {
  core::TrainConfig c = core::withStrategyDefaults(core::TrainConfig{}, core::Strategy::Scratch);
  c.backbone = a.backbone;
  c.epochs = a.epochs;
  c.batchSize = int64_t(a.batchSize);
  c.lr = a.lr;
  c.optimizer = core::OptimizerKind::AdamW;
  c.weightDecay = 1e-4;
  c.schedule = core::ScheduleKind::Cosine;
  c.seed = a.seed;
  c.augmentation.enabled = true;
  c.augmentation.minScale = 0.7;
  c.augmentation.minRatio = 0.85;
  c.augmentation.maxRatio = 1.0 / 0.85;
  c.restoreBest = false;
  c.featureCache = false;
  c.checkpointEvery = 0;
  c.valFraction = 0;
  c.testFraction = 0;
  return c;
}

// The weights in the architecture's own layout, the one published checkpoints and the catalog
// use: the trainer's linear head is Sequential(Dropout, Linear) ("fc.1.weight"), the
// architecture's a plain Linear ("fc.weight"). Loaded into a fresh network and checked complete,
// so the file is known to load before it is written.
core::StateDict publishedLayout(core::ImageClassifierImpl& trained, const std::string& architecture,
                                int channels, size_t numClasses, const std::string& out) {
  const std::string head = trained.headName() + ".1.";
  core::StateDict renamed;
  for (auto& [key, tensor] : core::stateDictOf(trained)) {
    const bool inHead = key.rfind(head, 0) == 0;
    renamed.emplace_back(inHead ? trained.headName() + "." + key.substr(head.size()) : key, tensor);
  }
  auto plain = core::createArchitecture(architecture, int64_t(numClasses), channels);
  const auto report = core::loadStateDict(*plain, renamed);
  if (!report.complete())
    throw core::Error(out + ": the trained weights do not fit " + architecture + ": " +
                      report.summary());
  return core::stateDictOf(*plain);
}

void pretrain(const PretrainArgs& a, int& exitCode) {
  core::configureRuntime({0, false});
  auto dataset = std::make_shared<core::Dataset>(core::openDataset(a.dataset));
  dataset->validate();
  if (dataset->indicesOf(core::Split::Train).empty() ||
      dataset->indicesOf(core::Split::Test).empty())
    throw core::InvalidArgument(a.dataset + ": needs a train and a test split");
  for (auto& s : dataset->samples)  // the trainer measures every epoch on the validation split
    if (s.split == core::Split::Test) s.split = core::Split::Val;
  PretrainObserver observer(a.json, a.epochs);
  core::Trainer trainer(pretrainConfig(a), dataset, {}, &observer);
  trainer.start();
  trainer.join();
  const core::TrainResult& r = trainer.result();
  if (r.state != core::RunState::Finished)
    throw core::Error(a.out + ": pretraining " + core::runStateName(r.state) + ": " + r.error);
  const double accuracy = r.val ? r.val->accuracy : 0;
  std::ostringstream acc;
  acc << std::fixed << std::setprecision(4) << accuracy;
  core::writeSafetensors(
      a.out,
      publishedLayout(*trainer.model(), r.architecture,
                      core::BackboneCatalog::loadDefault().get(a.backbone).channels,
                      dataset->numClasses(), a.out),
      {{"architecture", r.architecture},
       {"dataset", a.dataset},
       {"classes", json(dataset->classNames).dump()},
       {"epochs", std::to_string(a.epochs)},
       {"seed", std::to_string(a.seed)},
       {"test_accuracy", acc.str()},
       {"made_by", "transferlab-cli pretrain"}});
  if (!a.json) std::cout << "saved " << a.out << " (test accuracy " << acc.str() << ")\n";
  exitCode = 0;
}

}  // namespace

void addPretrainCommand(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<PretrainArgs>();
  auto* cmd = app.add_subcommand("pretrain",
                                 "Train a built-in architecture from scratch and save its weights");
  cmd->add_option("--dataset", a->dataset,
                  "Dataset with train and test splits (default: Fashion-MNIST)");
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
