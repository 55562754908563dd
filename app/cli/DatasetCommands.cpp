#include "app/cli/DatasetCommands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "app/cli/JsonReport.h"
#include "core/Errors.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/dataset/ImageVerifier.h"
#include "core/dataset/Readers.h"
#include "core/dataset/Split.h"
#include "core/project/Project.h"
#include "core/quality/DataIssues.h"
#include "core/runtime/Runtime.h"
#include "core/util/FileUtil.h"
#include "core/util/Random.h"
#include "core/util/VerifiedWrite.h"

namespace tlab::cli {
namespace {
namespace fs = std::filesystem;
using core::Dataset;
using core::Split;

struct OpenArgs {
  std::string path;
  std::string format = "auto";
  bool allowOutside = false;
  bool noVerify = false;
};

void addOpenOptions(CLI::App* cmd, OpenArgs& a) {
  cmd->add_option("PATH", a.path, "Dataset folder or file")->required();
  cmd->add_option("--format", a.format, "auto|folder|csv|idx|hdf5|text")
      ->check(CLI::IsMember(core::kDatasetFormatNames.names()));
  cmd->add_flag("--allow-outside-root", a.allowOutside,
                "Allow manifest paths that point outside the manifest's folder");
  cmd->add_flag("--no-verify", a.noVerify, "List image files without decoding them");
}

Dataset openAndVerify(const OpenArgs& a, bool quiet) {
  core::ReadOptions ro;
  ro.format = core::parseDatasetFormat(a.format);
  ro.pathPolicy =
      a.allowOutside ? core::PathPolicy::AllowOutsideRoot : core::PathPolicy::StayInsideRoot;
  Dataset ds = core::openDataset(a.path, ro);
  if (!a.noVerify) {
    core::VerifyOptions vo;
    const bool tty = !quiet && isatty(STDERR_FILENO);
    if (tty) {
      vo.progress = [](size_t done, size_t total) {
        if (done % 256 == 0 || done == total)
          std::fprintf(stderr, "\rverifying images %zu/%zu", done, total);
      };
    }
    core::verifyImages(ds, vo);
    if (tty) std::fprintf(stderr, "\n");
  }
  return ds;
}

void printText(const Dataset& ds) {
  std::cout << "Dataset  " << ds.source.string() << "  (" << ds.format << ", "
            << (ds.modality == core::Modality::Image ? "image" : "text") << ")\n";
  std::cout << "Samples  " << ds.size() << " in " << ds.numClasses() << " classes\n";
  const std::pair<Split, const char*> parts[] = {{Split::Train, "train"},
                                                 {Split::Val, "val"},
                                                 {Split::Test, "test"},
                                                 {Split::None, "unassigned"}};
  std::vector<std::pair<const char*, std::vector<int64_t>>> columns;
  std::cout << "Splits  ";
  for (const auto& [split, name] : parts) {
    if (const auto n = ds.splitCount(split)) {
      std::cout << " " << name << " " << n;
      columns.emplace_back(name, ds.classCounts(split));
    }
  }
  std::cout << "\nClasses  " << std::string(14, ' ') << std::setw(8) << "total";
  for (const auto& col : columns) std::cout << std::setw(11) << col.first;
  std::cout << "\n";
  const auto counts = ds.classCounts();
  int64_t maxCount = 1;
  for (auto c : counts) maxCount = std::max(maxCount, c);
  for (size_t c = 0; c < counts.size(); ++c) {
    std::cout << "  " << std::left << std::setw(20) << ds.classNames[c] << std::right
              << std::setw(8) << counts[c];
    for (const auto& col : columns) std::cout << std::setw(11) << col.second[c];
    std::cout << "  " << std::string(size_t(24 * counts[c] / maxCount), '#') << "\n";
  }
  std::cout << "Skipped  " << ds.skipped.size() << "\n";
  for (const auto& s : ds.skipped) {
    std::cout << "  " << s.path << (s.line ? ":" + std::to_string(s.line) : "") << ": " << s.reason
              << "\n";
  }
  for (const auto& e : ds.structuralErrors()) std::cout << "Error: " << e << "\n";
}

// Train samples limited to `perClass` per class (seeded pick); val/test kept whole.
std::vector<size_t> selectForExport(const Dataset& ds, const std::vector<Split>& splits,
                                    int perClass, uint64_t seed) {
  std::vector<size_t> out;
  for (Split s : splits) {
    std::vector<size_t> idx = ds.indicesOf(s);
    if (s == Split::None) {
      for (size_t i = 0; i < ds.size(); ++i) out.push_back(i);
      return out;
    }
    if (perClass > 0 && s == Split::Train) {
      core::Rng rng(core::mixSeed(seed, 0xF3));
      core::shuffleInPlace(idx, rng);
      std::vector<int> taken(ds.numClasses(), 0);
      std::vector<size_t> picked;
      for (size_t i : idx) {
        if (taken[ds.samples[i].label]++ < perClass) picked.push_back(i);
      }
      std::sort(picked.begin(), picked.end());
      idx = picked;
    }
    out.insert(out.end(), idx.begin(), idx.end());
  }
  return out;
}

std::string csvQuote(const std::string& field) {
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// path,label,split rows; paths relative to the manifest's folder where they lie below it.
std::string manifestCsv(const Dataset& ds, const std::filesystem::path& manifest) {
  const auto base = std::filesystem::absolute(manifest).parent_path();
  std::string csv = "path,label,split\n";
  for (const auto& s : ds.samples) {
    if (s.path.empty())
      throw core::InvalidArgument("--manifest needs a dataset of image or text files");
    const auto abs = std::filesystem::absolute(s.path);
    const auto rel = abs.lexically_relative(base);
    const bool inside = !rel.empty() && *rel.begin() != "..";
    csv += csvQuote(inside ? rel.string() : abs.string()) + "," + csvQuote(ds.classNames[s.label]) +
           "," + core::splitName(s.split) + "\n";
  }
  return csv;
}

}  // namespace

namespace {

void addInspect(CLI::App* dataset, int& exitCode) {
  auto inspectArgs = std::make_shared<OpenArgs>();
  auto json = std::make_shared<bool>(false);
  auto* inspect = dataset->add_subcommand("inspect", "Classes, counts, splits and skipped files");
  addOpenOptions(inspect, *inspectArgs);
  inspect->add_flag("--json", *json, "Print one JSON object");
  inspect->callback([=, &exitCode] {
    const Dataset ds = openAndVerify(*inspectArgs, *json);
    if (*json) {
      std::cout << datasetReport(ds).dump(2) << "\n";
    } else {
      printText(ds);
    }
    exitCode = ds.structuralErrors().empty() ? 0 : 2;
  });
}

void addSplit(CLI::App* dataset, int& exitCode) {
  struct SplitArgs {
    OpenArgs open;
    double val = 0.1, test = 0.1;
    uint64_t seed = 42;
    bool resplit = false, json = false;
    std::string manifest;
  };
  auto sa = std::make_shared<SplitArgs>();
  auto* split = dataset->add_subcommand("split", "Stratified, seeded train/val/test split");
  addOpenOptions(split, sa->open);
  split->add_option("--val", sa->val, "Validation fraction")->check(CLI::Range(0.0, 0.9));
  split->add_option("--test", sa->test, "Test fraction")->check(CLI::Range(0.0, 0.9));
  split->add_option("--seed", sa->seed, "Random seed");
  split->add_flag("--resplit", sa->resplit, "Ignore the dataset's own train/val/test split");
  split->add_flag("--json", sa->json, "Print one JSON object");
  split->add_option("--manifest", sa->manifest, "Write path,label,split CSV (file datasets)");
  split->callback([=, &exitCode] {
    Dataset ds = openAndVerify(sa->open, sa->json);
    ds.validate();
    core::assignSplits(
        ds, {sa->val, sa->test, sa->seed,
             sa->resplit ? core::SplitPolicy::Resplit : core::SplitPolicy::KeepPredefined});
    if (!sa->manifest.empty()) core::writeFileVerified(sa->manifest, manifestCsv(ds, sa->manifest));
    if (sa->json) {
      std::cout << datasetReport(ds).dump(2) << "\n";
    } else {
      printText(ds);
    }
    exitCode = 0;
  });
}

void addExport(CLI::App* dataset, int& exitCode) {
  struct ExportArgs {
    OpenArgs open;
    std::string out;
    int size = 0, channels = 0, perClass = 0;
    std::vector<std::string> splits{"train", "val", "test"};
    uint64_t seed = 42;
  };
  auto ea = std::make_shared<ExportArgs>();
  auto* exp = dataset->add_subcommand("export", "Write (a subset of) a dataset as HDF5");
  addOpenOptions(exp, ea->open);
  exp->add_option("--out", ea->out, "Output .h5 file")->required();
  exp->add_option("--size", ea->size, "Square output size (default: the source's)");
  exp->add_option("--channels", ea->channels, "1 or 3 (default: the source's)")
      ->check(CLI::IsMember({1, 3}));
  exp->add_option("--train-per-class", ea->perClass,
                  "Keep N training samples per class (few-shot)");
  exp->add_option("--splits", ea->splits, "Splits to include")->delimiter(',');
  exp->add_option("--seed", ea->seed, "Seed for the few-shot pick");
  exp->callback([=, &exitCode] {
    Dataset ds = openAndVerify(ea->open, false);
    ds.validate();
    std::vector<Split> splits;
    for (const auto& s : ea->splits) {
      const auto parsed = core::parseSplit(s);
      if (!parsed) throw core::InvalidArgument("unknown split '" + s + "'");
      splits.push_back(*parsed);
    }
    if (!ds.hasPredefinedSplit()) splits = {Split::None};
    const auto indices = selectForExport(ds, splits, ea->perClass, ea->seed);
    const auto first = ds.loadImage(indices.at(0));
    if (!first.ok()) throw core::FormatError(ds.samples[indices[0]].path, first.error);
    const int size = ea->size > 0 ? ea->size : first.pixels.rows;
    const int channels = ea->channels > 0 ? ea->channels : first.pixels.channels();
    const auto skipped = core::exportToHdf5(ds, indices, ea->out, size, size, channels);
    std::cout << "wrote " << indices.size() - skipped.size() << " images (" << size << "x" << size
              << "x" << channels << ") to " << ea->out << "\n";
    for (const auto& s : skipped) std::cout << "  skipped " << s.path << ": " << s.reason << "\n";
    exitCode = 0;
  });
}

// One progress line on stderr per stage: "stage 40/100 (40%), ETA 12 s", redrawn in place on a
// terminal; elsewhere one line when a stage finishes. Silent with --json.
class ProgressLine {
 public:
  explicit ProgressLine(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}
  void update(const std::string& stage, size_t done, size_t total) {
    if (quiet_) return;
    if (stage != stage_) {
      stage_ = stage;
      start_ = std::chrono::steady_clock::now();
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = done > 0 ? s / double(done) * double(total - done) : -1;
    if (tty_) {
      std::fprintf(stderr, "\r%s %zu/%zu (%d%%), ETA %s      ", stage.c_str(), done, total,
                   total ? int(100.0 * double(done) / double(total)) : 0,
                   eta < 0 ? "?" : (std::to_string(int(eta + 0.5)) + " s").c_str());
      shown_ = true;
    } else if (done == total) {
      std::fprintf(stderr, "%s: %zu/%zu in %.1f s\n", stage.c_str(), done, total, s);
    }
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r%s\r", std::string(90, ' ').c_str());
    shown_ = false;
  }

 private:
  bool quiet_, tty_, shown_ = false;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
};

void printIssues(const nlohmann::json& j, size_t top) {
  const auto& issues = j["label_issues"];
  std::cout << "backbone " << j["backbone"].get<std::string>() << ", " << j["samples"]
            << " training samples, " << j["folds"] << "-fold linear probes (L2 " << j["probe_l2"]
            << "): out-of-sample accuracy " << std::fixed << std::setprecision(3)
            << j["probe_accuracy"].get<double>() << "\n";
  std::cout << "\n" << issues.size() << " likely label errors";
  if (!issues.empty()) std::cout << " (most likely first)";
  std::cout << ":\n";
  for (size_t k = 0; k < issues.size() && k < top; ++k) {
    const auto& i = issues[k];
    std::cout << "  " << std::setprecision(3) << i["score"].get<double>() << "  "
              << i["path"].get<std::string>() << "  labelled " << i["given"].get<std::string>()
              << ", looks like " << i["suggested"].get<std::string>() << "\n";
  }
  if (issues.size() > top)
    std::cout << "  ... (" << issues.size() - top << " more; --json lists all)\n";
  if (!j["test_accuracy_given"].is_null())
    std::cout << "linear probe (L2 0.01) test accuracy " << j["test_accuracy_given"].get<double>()
              << " as labelled, " << j["test_accuracy_fixed"].get<double>()
              << " with every suggestion accepted, " << j["test_accuracy_excluded"].get<double>()
              << " without the flagged samples\n";
  std::cout << "\n" << j["duplicates"].size() << " near-duplicate pairs across splits:\n";
  for (size_t k = 0; k < j["duplicates"].size() && k < top; ++k) {
    const auto& d = j["duplicates"][k];
    std::cout << "  " << std::setprecision(4) << d["similarity"].get<double>() << "  "
              << d["path"].get<std::string>() << " (" << d["split"].get<std::string>() << ") ~ "
              << d["other_path"].get<std::string>() << " (" << d["other_split"].get<std::string>()
              << ")\n";
  }
  std::cout << "\n"
            << j["outliers"].size() << " outliers (mean distance to the nearest samples above "
            << std::setprecision(3) << j["outlier_fence"].get<double>() << "):\n";
  for (size_t k = 0; k < j["outliers"].size() && k < top; ++k)
    std::cout << "  " << j["outliers"][k]["score"].get<double>() << "  "
              << j["outliers"][k]["path"].get<std::string>() << "\n";
  for (const char* key : {"simulated_noise", "simulated_leakage"}) {
    if (j.contains(key)) std::cout << "\n" << key << ": " << j[key].dump() << "\n";
  }
}

// Simulated label noise: flips `fraction` of the train/val labels (seeded) to another class,
// uniformly; returns the flipped sample indices.
std::set<size_t> flipLabels(Dataset& ds, double fraction, uint64_t seed) {
  std::vector<size_t> labelled;
  for (size_t i = 0; i < ds.size(); ++i)
    if (ds.samples[i].split == Split::Train || ds.samples[i].split == Split::Val)
      labelled.push_back(i);
  core::Rng rng(core::mixSeed(seed, 0x4e4f495345));
  const auto n = size_t(std::llround(fraction * double(labelled.size())));
  for (size_t i = 0; i < n; ++i)
    std::swap(labelled[i], labelled[i + size_t(rng.below(uint64_t(labelled.size() - i)))]);
  std::set<size_t> flipped;
  const auto classes = uint64_t(ds.numClasses());
  for (size_t i = 0; i < n; ++i) {
    auto& s = ds.samples[labelled[i]];
    s.label = int32_t((uint64_t(s.label) + 1 + rng.below(classes - 1)) % classes);
    flipped.insert(labelled[i]);
  }
  return flipped;
}

// Simulated leakage: copies `count` test samples (seeded) into the training split; returns
// (copy, original) pairs.
std::vector<std::pair<size_t, size_t>> copyTestIntoTrain(Dataset& ds, size_t count, uint64_t seed) {
  auto test = ds.indicesOf(Split::Test);
  if (test.size() < count)
    throw core::InvalidArgument("--simulate-leakage " + std::to_string(count) +
                                ": the test split has only " + std::to_string(test.size()) +
                                " samples");
  core::Rng rng(core::mixSeed(seed, 0x4c45414b));
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0; i < count; ++i) {
    std::swap(test[i], test[i + size_t(rng.below(uint64_t(test.size() - i)))]);
    core::Sample copy = ds.samples[test[i]];
    copy.split = Split::Train;
    ds.samples.push_back(copy);
    pairs.emplace_back(ds.size() - 1, test[i]);
  }
  return pairs;
}

void addIssues(CLI::App* dataset, int& exitCode) {
  struct IssueArgs {
    OpenArgs open;
    std::string backbone = "efficientnet_lite0";
    int folds = 5, imageSize = 0, top = 20;
    double val = 0.1, test = 0.1, duplicate = 0.99, noise = 0,
           l2 = core::ProbeOptions{}.weightDecay;
    size_t leakage = 0;
    uint64_t seed = 42;
    bool json = false, noCache = false;
    std::string writeProjects;
  };
  auto ia = std::make_shared<IssueArgs>();
  auto* cmd = dataset->add_subcommand(
      "issues",
      "Likely label errors (confident learning on cross-validated linear probes of a backbone's "
      "features), train/test near-duplicates and outliers");
  addOpenOptions(cmd, ia->open);
  cmd->add_option("--backbone", ia->backbone, "Catalog id whose features are used");
  cmd->add_option("--folds", ia->folds, "Cross-validation folds")->check(CLI::Range(2, 20));
  cmd->add_option("--image-size", ia->imageSize, "Input size (default: the backbone's)");
  cmd->add_option("--val", ia->val, "Validation fraction where the dataset has none")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--test", ia->test, "Test fraction where the dataset has none")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--seed", ia->seed, "Seed of the split, the folds and any simulation");
  cmd->add_option("--duplicate-threshold", ia->duplicate,
                  "Cosine similarity of features from which two samples count as duplicates")
      ->check(CLI::Range(0.5, 1.0));
  cmd->add_option("--top", ia->top, "Label issues listed (text output)");
  cmd->add_option("--l2", ia->l2,
                  "L2 penalty of the linear probes on standardised features (0: chosen by "
                  "cross-validated log loss from 0.01, 0.1, 1, 10)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_flag("--no-cache", ia->noCache, "Neither read nor write the feature cache");
  cmd->add_flag("--json", ia->json, "Print one JSON object");
  cmd->add_option("--simulate-noise", ia->noise,
                  "Self-check: flip this fraction of the training labels first (seeded) and "
                  "report how many of them the finder flags")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--write-projects", ia->writeProjects,
                  "With --simulate-noise: write PREFIX-clean.tlproj (no edits, the same split), "
                  "PREFIX-noisy.tlproj (the flips as label edits), "
                  "PREFIX-fixed.tlproj (the flips, then every suggestion accepted) and "
                  "PREFIX-excluded.tlproj (the flips, flagged samples excluded), to retrain with "
                  "`train --project`");
  cmd->add_option("--simulate-leakage", ia->leakage,
                  "Self-check: copy N test samples into the training split first (seeded) and "
                  "report how many the duplicate check finds");
  cmd->callback([=, &exitCode] {
    core::configureRuntime();
    Dataset ds = openAndVerify(ia->open, ia->json);
    ds.validate();
    core::assignSplits(ds, {ia->val, ia->test, ia->seed, core::SplitPolicy::KeepPredefined});
    const Dataset clean = ds;
    std::set<size_t> flipped;
    std::vector<std::pair<size_t, size_t>> copies;
    if (ia->noise > 0) flipped = flipLabels(ds, ia->noise, ia->seed);
    if (ia->leakage > 0) copies = copyTestIntoTrain(ds, ia->leakage, ia->seed);
    auto shared = std::make_shared<const Dataset>(std::move(ds));
    core::DataIssueOptions o;
    o.backbone = ia->backbone;
    o.imageSize = ia->imageSize;
    o.probe.folds = ia->folds;
    o.probe.seed = ia->seed;
    o.probe.weightDecay = ia->l2;
    o.duplicateThreshold = ia->duplicate;
    o.useCache = !ia->noCache;
    ProgressLine line(ia->json);
    o.progress = [&](const std::string& stage, size_t done, size_t total) {
      line.update(stage, done, total);
    };
    o.log = [&](const std::string& s) {
      line.clear();
      std::cerr << s << "\n";
    };
    const auto report = core::findDataIssues(shared, o);
    line.clear();
    nlohmann::json j = core::dataIssuesJson(report, *shared);
    if (!flipped.empty()) {
      // Precision and recall of the flagged set, and precision among the top 5% of the ranking
      // (the finder's own order: every flagged sample, then the rest by 1 - p(given)).
      const auto& issues = report.labels.issues;
      size_t hit = 0;
      for (const auto& i : issues) hit += flipped.count(report.samples[i.row]);
      std::vector<std::pair<double, size_t>> ranking;
      std::set<size_t> flaggedRows;
      for (const auto& i : issues) flaggedRows.insert(i.row);
      const auto classes = report.labels.thresholds.size();
      for (size_t r = 0; r < report.samples.size(); ++r) {
        if (flaggedRows.count(r)) continue;
        const int32_t given = shared->samples[report.samples[r]].label;
        ranking.emplace_back(1.0 - report.probabilities[r * classes + size_t(given)], r);
      }
      std::stable_sort(ranking.begin(), ranking.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      std::vector<size_t> order;
      for (const auto& i : issues) order.push_back(i.row);
      for (const auto& [score, r] : ranking) order.push_back(r);
      const size_t top5 = std::max<size_t>(1, report.samples.size() / 20);
      size_t topHit = 0;
      for (size_t k = 0; k < top5 && k < order.size(); ++k)
        topHit += flipped.count(report.samples[order[k]]);
      // The same probe on the clean labels: what the noise cost, and what the fixes won back.
      nlohmann::json sim{{"flipped", flipped.size()},
                         {"flagged", issues.size()},
                         {"true_positives", hit},
                         {"precision", issues.empty() ? 0.0 : double(hit) / double(issues.size())},
                         {"recall", double(hit) / double(flipped.size())},
                         {"top_5_percent", top5},
                         {"precision_top_5_percent", double(topHit) / double(top5)}};
      if (report.hasTestAccuracy) {
        core::DataIssueOptions co = o;
        co.progress = nullptr;
        co.log = nullptr;
        const auto cleanReport = core::findDataIssues(std::make_shared<const Dataset>(clean), co);
        sim["test_accuracy_clean"] = cleanReport.testAccuracyGiven;
        sim["test_accuracy_noisy"] = report.testAccuracyGiven;
        sim["test_accuracy_fixed"] = report.testAccuracyFixed;
        sim["test_accuracy_excluded"] = report.testAccuracyExcluded;
      }
      j["simulated_noise"] = sim;
      if (!ia->writeProjects.empty()) {
        core::Project project;
        project.dataset.path = fs::absolute(ia->open.path).string();
        project.dataset.format = ia->open.format;
        project.dataset.allowPathsOutside = ia->open.allowOutside;
        project.dataset.valFraction = ia->val;
        project.dataset.testFraction = ia->test;
        project.dataset.splitSeed = ia->seed;
        const auto write = [&](const std::string& suffix) {
          const fs::path file = ia->writeProjects + "-" + suffix + ".tlproj";
          project.name = fs::path(ia->writeProjects).filename().string() + " (" + suffix + ")";
          core::saveProject(file, project);
          j["simulated_noise"]["projects"][suffix] = file.string();
        };
        write("clean");
        for (size_t s : flipped)
          project.labelEdits.push_back(
              {core::sampleKey(*shared, s), shared->classNames[size_t(shared->samples[s].label)]});
        write("noisy");
        for (const auto& i : issues) {  // accepted: the suggestion replaces any earlier edit
          const std::string key = core::sampleKey(*shared, report.samples[i.row]);
          auto& edits = project.labelEdits;
          edits.erase(std::remove_if(edits.begin(), edits.end(),
                                     [&](const core::LabelEdit& e) { return e.sampleKey == key; }),
                      edits.end());
          edits.push_back({key, shared->classNames[size_t(i.suggested)]});
        }
        write("fixed");
        for (const auto& i : issues) {  // the flagged samples excluded instead
          const std::string key = core::sampleKey(*shared, report.samples[i.row]);
          for (auto& e : project.labelEdits)
            if (e.sampleKey == key) e.label.clear();
        }
        write("excluded");
      }
    }
    if (!copies.empty()) {
      std::set<std::pair<size_t, size_t>> found;
      for (const auto& d : report.duplicates) found.insert({d.sample, d.other});
      size_t hit = 0;
      for (const auto& c : copies) hit += found.count(c);
      j["simulated_leakage"] = {{"copied", copies.size()},
                                {"found", hit},
                                {"duplicate_pairs_reported", report.duplicates.size()}};
    }
    if (ia->json) {
      std::cout << j.dump(2) << "\n";
    } else {
      printIssues(j, size_t(std::max(0, ia->top)));
    }
    exitCode = 0;
  });
}

}  // namespace

void addDatasetCommands(CLI::App& app, int& exitCode) {
  auto* dataset = app.add_subcommand("dataset", "Inspect, split and convert datasets");
  dataset->require_subcommand(1);
  addInspect(dataset, exitCode);
  addSplit(dataset, exitCode);
  addExport(dataset, exitCode);
  addIssues(dataset, exitCode);
}

}  // namespace tlab::cli
