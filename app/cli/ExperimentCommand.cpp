// `transferlab-cli experiment data-efficiency`: test accuracy against labelled samples per
// class, pre-trained against scratch, written as results.csv, summary.json and curve.svg.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cli/CurveSvg.h"
#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/project/Project.h"
#include "core/runtime/Runtime.h"
#include "core/train/DataEfficiency.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"

namespace tlab::cli {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct ExperimentArgs {
  std::string dataset, project, config, backbone, precision, out;
  std::string strategies = "linear-probe,scratch", sizes = "1,2,5,10,20,50,100";
  int seeds = 3, epochs = 0, imageSize = -1, minSteps = 100;
  int64_t batchSize = 0, seed = -1;
  bool json = false;
};

std::vector<std::string> commaList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string clock(double seconds) {
  if (seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

// One line per run on stdout (or one JSON event per line); the rest of the session's chatter
// stays quiet, as the runs are many and short.
class ExperimentObserver : public core::DataEfficiencyObserver {
 public:
  explicit ExperimentObserver(bool asJson) : json_(asJson) {}
  void onRunStarted(const core::DataEfficiencyRun& r, int index, int total) override {
    if (json_) return;
    std::printf("[%d/%d] n=%d %s seed %d (%lld samples, %d epochs) ...", index + 1, total,
                r.perClass, core::strategyName(r.strategy), r.seed, (long long)r.samples, r.epochs);
    std::fflush(stdout);
  }
  void onRunFinished(const core::DataEfficiencyRow& row, int index, int total,
                     double left) override {
    if (json_) {
      std::cout << json{{"event", "run"},
                        {"index", index + 1},
                        {"total", total},
                        {"n", row.run.perClass},
                        {"strategy", core::strategyName(row.run.strategy)},
                        {"seed", row.run.seed},
                        {"accuracy", row.accuracy},
                        {"macro_f1", row.macroF1},
                        {"seconds", row.seconds},
                        {"eta_seconds", left}}
                       .dump()
                << std::endl;
      return;
    }
    std::printf(" accuracy %.3f (%.1f s); %s left\n", row.accuracy, row.seconds,
                clock(left).c_str());
    std::fflush(stdout);
  }
  void onLog(const std::string& text) override {
    if (text.rfind("skipped ", 0) == 0) std::cerr << text << "\n";
  }

 private:
  bool json_;
};

core::TrainConfig baseConfig(const ExperimentArgs& a) {
  json j = json::object();
  std::string source = "command line";
  if (!a.config.empty()) {
    j = core::readJsonFile(a.config, "run config", 16 << 20);
    source = a.config;
  } else if (!a.project.empty()) {
    j = core::toJson(core::loadProject(a.project).config);
    source = a.project;
  }
  core::TrainConfig cfg = core::trainConfigFromJson(j, source);
  if (!a.backbone.empty()) cfg.backbone = a.backbone;
  if (!a.precision.empty()) cfg.precision = core::kPrecisionNames.parse(a.precision, "precision");
  if (a.batchSize > 0) cfg.batchSize = a.batchSize;
  if (a.imageSize >= 0) cfg.imageSize = a.imageSize;
  if (a.seed >= 0) cfg.seed = uint64_t(a.seed);
  return cfg;
}

json summaryJson(const core::DataEfficiencyResult& r, const core::TrainConfig& cfg,
                 const ExperimentArgs& a) {
  json points = json::array();
  for (const auto& p : core::summarizeCurve(r.rows))
    points.push_back({{"n", p.perClass},
                      {"strategy", core::strategyName(p.strategy)},
                      {"runs", p.runs},
                      {"mean_accuracy", p.mean},
                      {"std_accuracy", p.stddev},
                      {"min_accuracy", p.min},
                      {"max_accuracy", p.max}});
  return {{"backbone", cfg.backbone},
          {"image_size", cfg.imageSize},
          {"dataset", a.project.empty() ? a.dataset : a.project},
          {"n", r.perClass},
          {"seeds", a.seeds},
          {"runs", r.rows.size()},
          {"planned_runs", r.totalRuns},
          {"cancelled", r.cancelled},
          {"seconds", r.seconds},
          {"val_samples", r.valSamples},
          {"test_samples", r.testSamples},
          {"points", points}};
}

void dataEfficiency(const ExperimentArgs& a, int& exitCode) {
  if (a.dataset.empty() == a.project.empty())
    throw core::InvalidArgument("experiment data-efficiency needs either --dataset or --project");
  core::configureRuntime({0, false});
  core::DataEfficiencyPlan plan;
  plan.strategies.clear();
  for (const auto& s : commaList(a.strategies)) plan.strategies.push_back(core::parseStrategy(s));
  plan.perClass.clear();
  for (const auto& s : commaList(a.sizes)) {
    try {
      size_t used = 0;
      plan.perClass.push_back(std::stoi(s, &used));
      if (used != s.size()) throw std::invalid_argument(s);
    } catch (const std::exception&) {
      throw core::InvalidArgument("--n: '" + s + "' is not a whole number");
    }
  }
  plan.seeds = a.seeds;
  plan.epochs = a.epochs;
  plan.minSteps = a.minSteps;
  const core::TrainConfig cfg = baseConfig(a);
  auto ds = std::make_shared<core::Dataset>(
      a.project.empty() ? core::openDataset(a.dataset)
                        : core::openProjectDataset(core::loadProject(a.project)));
  for (const auto& s : ds->skipped) std::cerr << "skipped " << s.path << ": " << s.reason << "\n";
  const fs::path out = a.out;
  fs::create_directories(out);
  core::writeFileAtomic(out / "config.json", core::toJson(cfg).dump(2));
  ExperimentObserver observer(a.json);
  core::TrainerControl control;
  const auto result = core::runDataEfficiency(cfg, ds, plan, control, &observer);
  core::writeFileAtomic(out / "results.csv", core::dataEfficiencyCsv(result.rows));
  const json summary = summaryJson(result, cfg, a);
  core::writeFileAtomic(out / "summary.json", summary.dump(1));
  const std::string title = "Test accuracy against labelled samples per class (" + cfg.backbone +
                            ", " + std::to_string(a.seeds) + " seeds)";
  core::writeFileAtomic(out / "curve.svg", curveSvg(core::summarizeCurve(result.rows), title));
  if (a.json) {
    json done = summary;
    done["event"] = "done";
    done["out"] = out.string();
    std::cout << done.dump() << std::endl;
  } else {
    std::printf("%zu runs in %s; mean test accuracy (min-max over seeds):\n", result.rows.size(),
                clock(result.seconds).c_str());
    for (const auto& p : core::summarizeCurve(result.rows))
      std::printf("  %-14s n=%-4d %.3f (%.3f-%.3f)\n", core::strategyName(p.strategy), p.perClass,
                  p.mean, p.min, p.max);
    std::printf("outputs in %s (results.csv, summary.json, curve.svg)\n", out.string().c_str());
  }
  exitCode = result.cancelled ? 4 : 0;
}

}  // namespace

void addExperimentCommands(CLI::App& app, int& exitCode) {
  auto* experiment = app.add_subcommand("experiment", "Experiments made of many training runs");
  experiment->require_subcommand(1);
  auto a = std::make_shared<ExperimentArgs>();
  auto* de = experiment->add_subcommand(
      "data-efficiency",
      "Test accuracy against labelled samples per class: pre-trained strategies against the same "
      "architecture from scratch, several seeded subsamples per point");
  de->add_option("--dataset", a->dataset, "Dataset path (or --project)");
  de->add_option("--project", a->project,
                 "A .tlproj project: its dataset (label edits, split) and set-up");
  de->add_option("--backbone", a->backbone, "Catalog id (default: the config's or project's)");
  de->add_option("--strategies", a->strategies,
                 "Comma-separated: linear-probe,finetune-last,full,lp-ft,scratch");
  de->add_option("--n", a->sizes,
                 "Labelled training samples per class, comma-separated (sizes above the "
                 "smallest class are replaced by that class's count)");
  de->add_option("--seeds", a->seeds, "Subsamples per point")->check(CLI::Range(1, 100));
  de->add_option("--epochs", a->epochs, "Epochs of every run (default: each strategy's own)");
  de->add_option("--min-steps", a->minSteps,
                 "Small subsets train more epochs so each run takes at least this many steps")
      ->check(CLI::Range(0, 1000000));
  de->add_option("--batch-size", a->batchSize, "Batch size");
  de->add_option("--image-size,--max-tokens", a->imageSize, "Input size (default: the backbone's)");
  de->add_option("--precision", a->precision, "fp32|bf16|auto")
      ->check(CLI::IsMember(core::kPrecisionNames.names()));
  de->add_option("--seed", a->seed, "Base seed (split, subsamples, initialisation)");
  de->add_option("--config", a->config, "Run config JSON the runs start from");
  de->add_option("--out", a->out, "Output folder")->required();
  de->add_flag("--json", a->json, "One JSON event per finished run, then a summary");
  de->callback([a, &exitCode] { dataEfficiency(*a, exitCode); });
}

}  // namespace tlab::cli
