// `transferlab-cli train | evaluate | export`: the training engine, headless.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "CliObserver.h"
#include "app/cli/DistributedLaunch.h"
#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/export/VerifiedExport.h"
#include "core/project/Project.h"
#include "core/runtime/Runtime.h"
#include "core/train/Calibration.h"
#include "core/train/Checkpoint.h"
#include "core/train/Evaluate.h"
#include "core/train/LrFinder.h"
#include "core/train/ModelBundle.h"
#include "core/train/RunOutputs.h"
#include "core/train/Trainer.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"
#include "core/zoo/BackboneCatalog.h"

namespace tlab::cli {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct TrainArgs {
  std::string dataset, project, out, config, backbone, strategy, optimizer, schedule, precision;
  int epochs = 0, imageSize = -1;
  int64_t batchSize = 0;
  double lr = 0, backboneLr = 0;
  int64_t seed = -1;
  bool resume = false, json = false, printConfig = false;
  // Data-parallel: a local launcher (--nproc), or one rank of a group.
  int nproc = 0, threadsPerProc = 0, maxRestarts = 0, worldSize = 0, rank = -1;
  std::string master, distStore, gradCompression = "none";
  double distTimeout = 600;
};

// The rendezvous from the flags, else from torchrun's or SLURM's environment.
core::DistributedSpec distributedSpec(const TrainArgs& a) {
  core::DistributedSpec s;
  if (a.worldSize > 0) {
    s.worldSize = a.worldSize;
    if (a.rank < 0) throw core::InvalidArgument("--world-size needs --rank");
    s.rank = a.rank;
    s.storeFile = a.distStore;
    if (!s.storeFile.empty()) s.localRank = s.rank;  // a local group: every rank on this machine
    if (s.worldSize > 1 && s.storeFile.empty()) {
      const auto colon = a.master.rfind(':');
      if (colon == std::string::npos || colon == 0)
        throw core::InvalidArgument("--world-size " + std::to_string(a.worldSize) +
                                    " needs --master HOST:PORT (rank 0's address)");
      s.masterAddr = a.master.substr(0, colon);
      try {
        s.masterPort = std::stoi(a.master.substr(colon + 1));
      } catch (const std::exception&) {
        throw core::InvalidArgument("--master '" + a.master + "': the port is not a number");
      }
    }
  } else {
    s = core::distributedSpecFromEnvironment();
  }
  if (s.rank >= s.worldSize)
    throw core::InvalidArgument("--rank " + std::to_string(s.rank) + " is outside a world of " +
                                std::to_string(s.worldSize));
  s.timeoutSeconds = a.distTimeout;
  s.gradientWire = core::kGradientWireNames.parse(a.gradCompression, "gradient compression");
  if (s.enabled() && !core::distributedBuilt())
    throw core::Error("distributed training is not in this build (built without libgloo-dev)");
  return s;
}

// What the other ranks print: their own problems only (rank 0 reports the run).
class RankObserver : public core::TrainerObserver {
 public:
  explicit RankObserver(int rank) : rank_(rank) {}
  void onStatus(const core::StatusEvent& s) override {
    if (s.state == core::RunState::Failed)
      std::cerr << "[rank " << rank_ << "] failed: " << s.message << "\n";
  }
  void onLog(const std::string& text) override {
    if (text.rfind("skipped ", 0) == 0) std::cerr << "[rank " << rank_ << "] " << text << "\n";
  }

 private:
  int rank_;
};

// Precedence: flags, then the config's own keys, then its strategy's defaults (the same
// core::withStrategyDefaults the GUI applies when the strategy is picked).
core::TrainConfig resolveConfig(const TrainArgs& a) {
  json configJson = json::object();
  std::string configSource = "command line";
  const fs::path out = a.out;
  if (!a.config.empty()) {
    configJson = core::readJsonFile(a.config, "run config", 16 << 20);
    configSource = a.config;
  } else if (a.resume && fs::exists(out / "config.json")) {
    configSource = (out / "config.json").string();
    configJson = core::readJsonFile(configSource, "run config", 16 << 20);
  } else if (!a.project.empty()) {  // the set-up the project's next run starts from
    configJson = core::toJson(core::loadProject(a.project).config);
    configSource = a.project;
  }
  if (!a.strategy.empty()) {
    (void)core::parseStrategy(a.strategy);  // an unknown name is an error naming the flag's value
    configJson["strategy"] = a.strategy;
  }
  core::TrainConfig cfg = core::trainConfigFromJson(configJson, configSource);
  if (!a.backbone.empty()) cfg.backbone = a.backbone;
  if (!a.optimizer.empty()) cfg.optimizer = core::parseOptimizer(a.optimizer);
  if (!a.schedule.empty()) cfg.schedule = core::parseSchedule(a.schedule);
  if (!a.precision.empty()) cfg.precision = core::kPrecisionNames.parse(a.precision, "precision");
  if (a.epochs > 0) cfg.epochs = a.epochs;
  if (a.batchSize > 0) cfg.batchSize = a.batchSize;
  if (a.imageSize >= 0) cfg.imageSize = a.imageSize;
  if (a.lr > 0) cfg.lr = a.lr;
  if (a.backboneLr > 0) cfg.backboneLrMultiplier = a.backboneLr;
  if (a.seed >= 0) cfg.seed = uint64_t(a.seed);
  return cfg;
}

void printSummary(const core::TrainResult& r, const fs::path& out, bool asJson) {
  json summary{{"event", "done"},
               {"state", core::runStateName(r.state)},
               {"seconds", r.seconds},
               {"best_epoch", r.bestEpoch},
               {"feature_cache", core::kFeatureCacheUseNames.name(r.featureCache)},
               {"out", out.string()}};
  if (r.val) summary["val_accuracy"] = r.val->accuracy;
  if (r.test) {
    summary["test_accuracy"] = r.test->accuracy;
    summary["test_macro_f1"] = r.test->macroF1;
  }
  if (r.calibration.fitted) summary["temperature"] = r.calibration.temperature;
  if (r.calibration.hasTest) {
    summary["test_ece_before"] = r.calibration.testEceBefore;
    summary["test_ece_after"] = r.calibration.testEceAfter;
  }
  if (asJson) {
    std::cout << summary.dump() << std::endl;
    return;
  }
  std::cout << "run " << core::runStateName(r.state) << " in " << int(r.seconds)
            << " s; best epoch " << r.bestEpoch;
  if (r.val) std::cout << "; val accuracy " << r.val->accuracy;
  if (r.test)
    std::cout << "; test accuracy " << r.test->accuracy << ", macro-F1 " << r.test->macroF1;
  if (r.calibration.hasTest)
    std::cout << "\ncalibration: temperature " << r.calibration.temperature << ", test ECE "
              << r.calibration.testEceBefore << " -> " << r.calibration.testEceAfter;
  std::cout << "\noutputs in " << out.string() << " (metrics.json, history.csv, model/)\n";
}

void train(const TrainArgs& a, int& exitCode) {
  if (a.nproc > 1) {
    if (a.worldSize > 0 || !a.master.empty())
      throw core::InvalidArgument("--nproc starts its own ranks: leave out --world-size/--master");
    if (!core::distributedBuilt())
      throw core::Error("distributed training is not in this build (built without libgloo-dev)");
    if (a.out.empty()) throw CLI::RequiredError("--out");
    exitCode = launchLocalRanks({a.nproc, a.threadsPerProc, a.maxRestarts, a.resume});
    return;
  }
  const core::DistributedSpec dist = distributedSpec(a);
  core::configureRuntime({dist.enabled() ? a.threadsPerProc : 0, false});
  const core::TrainConfig cfg = resolveConfig(a);
  const fs::path out = a.out;
  if (a.printConfig) {
    std::cout << core::toJson(cfg).dump(2) << "\n";
    exitCode = 0;
    return;
  }
  if (a.dataset.empty() == a.project.empty())
    throw core::InvalidArgument("train needs either --dataset or --project");
  if (out.empty()) throw CLI::RequiredError("--out");
  const bool writer = dist.rank == 0;  // only rank 0 writes the run folder
  if (writer) {
    fs::create_directories(out);
    core::writeFileAtomic(out / "config.json", core::toJson(cfg).dump(2));
  }
  // A project: its dataset as the workbench trains on it (label edits, split, broken images out).
  auto ds = std::make_shared<core::Dataset>(
      a.project.empty() ? core::openDataset(a.dataset)
                        : core::openProjectDataset(core::loadProject(a.project)));
  if (writer)
    for (const auto& s : ds->skipped) std::cerr << "skipped " << s.path << ": " << s.reason << "\n";
  CliObserver observer(a.json, cfg.epochs);
  observer.setBatchSize(cfg.batchSize);
  RankObserver quiet(dist.rank);
  core::Trainer trainer(cfg, ds, out,
                        writer ? static_cast<core::TrainerObserver*>(&observer) : &quiet);
  trainer.setDistributed(dist);
  trainer.start(a.resume);
  trainer.join();
  const auto& r = trainer.result();
  if (r.state == core::RunState::Failed) throw core::Error(r.error);
  if (!writer) {
    exitCode = r.state == core::RunState::Finished ? 0 : 4;
    return;
  }
  core::writeRunOutputs(out, cfg, r, *ds);
  // Where the data came from, so `export --run` can verify on the same validation samples.
  core::writeFileAtomic(out / "run.json",
                        json{{"dataset", a.project.empty() ? fs::absolute(a.dataset).string() : ""},
                             {"project", a.project.empty() ? "" : fs::absolute(a.project).string()}}
                            .dump(2));
  // Verified on the validation samples this run held out (the dataset may not know its split).
  std::vector<size_t> held;
  if (r.val)
    for (const auto& row : r.val->predictions) held.push_back(row.sample);
  const auto info = core::bundleInfo(r, cfg);
  const auto inputs = held.empty()
                          ? core::verificationInputs(ds.get(), info)
                          : core::verificationInputs(*ds, held, "the run's val split", info);
  const auto exported = core::exportVerifiedBundle(out / "model", *trainer.model(), info, inputs);
  if (!a.json) std::cout << "model bundle " << core::describe(exported) << "\n";
  printSummary(r, out, a.json);
  exitCode = r.state == core::RunState::Finished ? 0 : 4;
}

void evaluate(const std::string& modelDir, const std::string& datasetPath, const std::string& split,
              bool asJson, int& exitCode) {
  core::configureRuntime({0, false});
  auto model = core::loadModelBundle(modelDir);
  auto ds = std::make_shared<core::Dataset>(core::openDataset(datasetPath));
  // Map the dataset's classes onto the model's by name.
  std::vector<size_t> indices;
  std::vector<int32_t> remap(ds->numClasses(), -1);
  for (size_t c = 0; c < ds->numClasses(); ++c) {
    const auto it =
        std::find(model.info.classNames.begin(), model.info.classNames.end(), ds->classNames[c]);
    if (it != model.info.classNames.end())
      remap[c] = int32_t(it - model.info.classNames.begin());
    else
      std::cerr << "class '" << ds->classNames[c]
                << "' is unknown to the model; its samples are left out\n";
  }
  const auto wanted = split == "all" ? std::optional<core::Split>() : core::parseSplit(split);
  if (split != "all" && !wanted) throw core::InvalidArgument("unknown split '" + split + "'");
  const bool hasSplit = wanted && ds->splitCount(*wanted) > 0;
  if (wanted && !hasSplit)
    std::cerr << "dataset has no " << split << " split; evaluating every sample\n";
  for (size_t i = 0; i < ds->size(); ++i) {
    auto& s = ds->samples[i];
    if (remap[size_t(s.label)] < 0 || (hasSplit && s.split != *wanted)) continue;
    s.label = remap[size_t(s.label)];
    indices.push_back(i);
  }
  ds->classNames = model.info.classNames;
  const auto r = core::evaluateModel(*model.net, ds, indices, model.info.preprocess);
  const json j = core::metricsJson(r);
  if (asJson) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%lld samples: accuracy %.4f, macro-F1 %.4f, top-%d %.4f, loss %.4f\n",
                (long long)r.count, r.accuracy, r.macroF1, r.topK, r.topKAccuracy, r.loss);
    for (const auto& c : r.perClass) {
      std::printf("  %-20s precision %.3f recall %.3f F1 %.3f (%lld)\n", c.name.c_str(),
                  c.precision, c.recall, c.f1, (long long)c.support);
    }
  }
  exitCode = 0;
}

void addTrain(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<TrainArgs>();
  auto* t = app.add_subcommand("train",
                               "Fine-tune a backbone on a dataset (runs in the background thread)");
  t->add_option("--dataset", a->dataset, "Dataset path (or --project)");
  t->add_option("--project", a->project,
                "Train on a .tlproj project's dataset (its label edits and split), starting from "
                "its set-up unless --config is given");
  t->add_option("--backbone", a->backbone, "Catalog id");
  t->add_option("--strategy", a->strategy, "linear-probe|finetune-last|full|lp-ft|scratch")
      ->check(CLI::IsMember(core::kStrategyNames.names()));
  t->add_option("--epochs", a->epochs, "Epochs");
  t->add_option("--batch-size", a->batchSize, "Batch size");
  t->add_option("--image-size,--max-tokens", a->imageSize,
                "Input size: image side in pixels, or tokens per text (default: the backbone's)");
  t->add_option("--lr", a->lr, "Learning rate");
  t->add_option("--backbone-lr", a->backboneLr,
                "Backbone's rate as a multiple of --lr (strategy default: 0.1 for full, else 1)");
  t->add_option("--optimizer", a->optimizer, "sgd|adam|adamw")
      ->check(CLI::IsMember(core::kOptimizerNames.names()));
  t->add_option("--schedule", a->schedule, "constant|step|cosine|onecycle")
      ->check(CLI::IsMember(core::kScheduleNames.names()));
  t->add_option("--precision", a->precision,
                "fp32|bf16|auto (auto: bf16 autocast only on CPUs with native bf16)")
      ->check(CLI::IsMember(core::kPrecisionNames.names()));
  t->add_option("--seed", a->seed, "Seed");
  t->add_option("--config", a->config, "Run config JSON (flags override it)");
  t->add_flag("--resume", a->resume, "Continue from the last checkpoint in --out");
  t->add_option("--out", a->out, "Run folder (required unless --print-config)");
  t->add_flag("--print-config", a->printConfig,
              "Print the resolved run config (defaults, --config, flags) as JSON and exit");
  t->add_flag("--json", a->json, "Stream one JSON event per line");
  const char* dist = "Data-parallel (c10d + Gloo; no authentication: trusted networks only)";
  t->add_option("--nproc", a->nproc, "Train with N local processes (ranks)")
      ->check(CLI::Range(1, 256))
      ->group(dist);
  t->add_option("--threads-per-proc", a->threadsPerProc,
                "Compute threads per process (default: the cores shared evenly)")
      ->check(CLI::Range(0, 1024))
      ->group(dist);
  t->add_option("--max-restarts", a->maxRestarts,
                "With --nproc: when a rank fails, restart every rank from the last checkpoint, "
                "up to K times")
      ->check(CLI::Range(0, 100))
      ->group(dist);
  t->add_option("--world-size", a->worldSize,
                "One rank of a group of W processes (one per machine); also read from torchrun's "
                "WORLD_SIZE/RANK/MASTER_ADDR/MASTER_PORT or SLURM's variables")
      ->check(CLI::Range(1, 65536))
      ->group(dist);
  t->add_option("--rank", a->rank, "This process's rank, 0 to W-1 (rank 0 writes the run)")
      ->check(CLI::Range(0, 65535))
      ->group(dist);
  t->add_option("--master", a->master,
                "HOST:PORT of rank 0, where the group meets (rank 0 listens on PORT)")
      ->group(dist);
  t->add_option("--dist-timeout", a->distTimeout,
                "Seconds a collective may wait before a silent rank counts as hung (default 600)")
      ->check(CLI::Range(1.0, 86400.0))
      ->group(dist);
  t->add_option("--grad-compression", a->gradCompression,
                "none|fp16|bf16: gradients travel as 16 bits in the all-reduce (half the "
                "bytes; as DDP's compress hooks): pays on links slower than ~10 Gb/s")
      ->check(CLI::IsMember(core::kGradientWireNames.names()))
      ->group(dist);
  t->add_option("--dist-store", a->distStore, "Rendezvous file of a local group (set by --nproc)")
      ->group("");
  t->callback([a, &exitCode] { train(*a, exitCode); });
}

void addEvaluate(CLI::App& app, int& exitCode) {
  struct EvalArgs {
    std::string model, dataset, split = "test";
    bool json = false;
  };
  auto e = std::make_shared<EvalArgs>();
  auto* ev = app.add_subcommand("evaluate", "Evaluate an exported model bundle on a dataset");
  ev->add_option("--model", e->model, "Model bundle folder (RUN/model)")->required();
  ev->add_option("--dataset", e->dataset, "Dataset path")->required();
  ev->add_option("--split", e->split, "train|val|test|all");
  ev->add_flag("--json", e->json, "Print JSON");
  ev->callback([e, &exitCode] { evaluate(e->model, e->dataset, e->split, e->json, exitCode); });
}

struct LrArgs {
  std::string dataset, backbone, strategy;
  int imageSize = 0, steps = 100;
  int64_t batchSize = 32;
  double start = 1e-7, end = 1.0;
  bool json = false;
};

void lrFind(const LrArgs& a, int& exitCode) {
  core::configureRuntime({0, false});
  core::TrainConfig cfg = core::defaultTrainConfig();
  if (!a.backbone.empty()) cfg.backbone = a.backbone;
  if (!a.strategy.empty()) cfg = core::withStrategyDefaults(cfg, core::parseStrategy(a.strategy));
  cfg.imageSize = a.imageSize;
  cfg.batchSize = a.batchSize;
  auto ds = std::make_shared<core::Dataset>(core::openDataset(a.dataset));
  core::LrFinderOptions o;
  o.steps = a.steps;
  o.startLr = a.start;
  o.endLr = a.end;
  const auto r = core::findLearningRate(cfg, ds, o);
  if (a.json) {
    std::cout << json{{"suggested_lr", r.suggested},
                      {"note", r.note},
                      {"lr", r.lrs},
                      {"loss", r.losses},
                      {"smoothed_loss", r.smoothed}}
                     .dump()
              << "\n";
  } else {
    for (size_t i = 0; i < r.lrs.size(); i += std::max<size_t>(1, r.lrs.size() / 20)) {
      std::printf("lr %.2e  loss %.4f  smoothed %.4f\n", r.lrs[i], r.losses[i], r.smoothed[i]);
    }
    std::printf("suggested learning rate: %.2e (%s)\n", r.suggested, r.note.c_str());
  }
  exitCode = 0;
}

void addLrFind(CLI::App& app, int& exitCode) {
  auto l = std::make_shared<LrArgs>();
  auto* lf = app.add_subcommand("lr-find", "Learning-rate range test with a suggested rate");
  lf->add_option("--dataset", l->dataset, "Dataset path")->required();
  lf->add_option("--backbone", l->backbone, "Catalog id");
  lf->add_option("--strategy", l->strategy, "Strategy whose first phase is probed")
      ->check(CLI::IsMember(core::kStrategyNames.names()));
  lf->add_option("--image-size,--max-tokens", l->imageSize, "Input size (pixels or tokens)");
  lf->add_option("--batch-size", l->batchSize, "Batch size");
  lf->add_option("--steps", l->steps, "Steps of the sweep");
  lf->add_option("--start-lr", l->start, "First rate");
  lf->add_option("--end-lr", l->end, "Last rate");
  lf->add_flag("--json", l->json, "Print JSON");
  lf->callback([l, &exitCode] { lrFind(*l, exitCode); });
}

// The dataset a run trained on (run.json), for verification inputs; null when it is gone.
std::shared_ptr<core::Dataset> runDataset(const fs::path& run, const std::string& override) {
  std::string dataset = override, project;
  if (dataset.empty() && fs::exists(run / "run.json")) {
    const auto j = core::readJsonFile((run / "run.json").string(), "run.json", 1 << 20);
    dataset = j.value("dataset", "");
    project = j.value("project", "");
  }
  try {
    if (!dataset.empty()) return std::make_shared<core::Dataset>(core::openDataset(dataset));
    if (!project.empty())
      return std::make_shared<core::Dataset>(core::openProjectDataset(core::loadProject(project)));
  } catch (const std::exception& e) {
    if (!override.empty()) throw;
    std::cerr << "note: the run's dataset cannot be opened (" << e.what()
              << "); verifying on seeded random inputs\n";
  }
  return nullptr;
}

void addExport(CLI::App& app, int& exitCode) {
  struct ExportArgs {
    std::string run, out, which = "best", dataset;
    bool onnx = false, json = false;
    int samples = 16;
  };
  auto x = std::make_shared<ExportArgs>();
  auto* ex = app.add_subcommand(
      "export",
      "Export a run's checkpoint as a verified model bundle (optionally with model.onnx): every "
      "file written is read back and must predict what the model in memory predicts");
  ex->add_option("--run", x->run, "Run folder (with model/model.json and checkpoints/)")
      ->required();
  ex->add_option("--out", x->out, "Bundle folder to write (new, empty, or a bundle to replace)")
      ->required();
  ex->add_option("--checkpoint", x->which, "best|last")->check(CLI::IsMember({"best", "last"}));
  ex->add_flag("--onnx", x->onnx, "Also write model.onnx (opset 17, dynamic batch size)");
  ex->add_option("--dataset", x->dataset,
                 "Dataset whose validation samples verify the export (default: the run's)");
  ex->add_option("--verify-samples", x->samples, "Samples to verify on")
      ->check(CLI::Range(1, 4096));
  ex->add_flag("--json", x->json, "Print the verification report as JSON");
  ex->callback([x, &exitCode] {
    core::configureRuntime({0, false});
    auto model = core::loadModelBundle(fs::path(x->run) / "model");
    const auto dir = core::latestCheckpoint(x->run);
    if (!dir) throw core::IoError(x->run, "run has no checkpoint");
    const fs::path file =
        *dir / (x->which == "best" && fs::exists(*dir / "best.safetensors") ? "best.safetensors"
                                                                            : "model.safetensors");
    const auto report = core::loadStateDict(*model.net, core::readSafetensors(file));
    if (!report.complete()) throw core::FormatError(file.string(), report.summary());
    const auto ds = runDataset(x->run, x->dataset);
    const auto inputs = core::verificationInputs(ds.get(), model.info, x->samples);
    core::ExportOptions options;
    options.onnx = x->onnx;
    const auto progress = [&](const std::string& step, int done, int total) {
      if (!x->json) std::cerr << "[" << done << "/" << total << "] " << step << "\n";
    };
    const auto r =
        core::exportVerifiedBundle(x->out, *model.net, model.info, inputs, options, progress);
    if (x->json) {
      json checks = json::array();
      for (const auto& c : r.checks) {
        json check = core::checkJson(c);
        check["file"] = c.file;
        check["samples"] = c.samples;
        checks.push_back(check);
      }
      json out{{"bundle", r.dir.string()},
               {"checkpoint", file.string()},
               {"inputs", r.inputs},
               {"checks", checks}};
      if (r.onnx.bytes > 0)
        out["onnx"] = {{"bytes", r.onnx.bytes}, {"opset", r.onnx.opset}, {"nodes", r.onnx.nodes}};
      std::cout << out.dump(2) << "\n";
    } else {
      std::cout << "exported " << file.string() << " to " << r.dir.string() << "\n"
                << core::describe(r) << "\n";
    }
    exitCode = 0;
  });
}

}  // namespace

void addTrainCommands(CLI::App& app, int& exitCode) {
  addTrain(app, exitCode);
  addEvaluate(app, exitCode);
  addLrFind(app, exitCode);
  addExport(app, exitCode);
}

}  // namespace tlab::cli
