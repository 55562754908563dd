#include "app/cli/DatasetCommands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include "app/cli/JsonReport.h"
#include "core/Errors.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/dataset/ImageVerifier.h"
#include "core/dataset/Readers.h"
#include "core/dataset/Split.h"
#include "core/util/FileUtil.h"
#include "core/util/Random.h"
#include "core/util/VerifiedWrite.h"

namespace tlab::cli {
namespace {
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

}  // namespace

void addDatasetCommands(CLI::App& app, int& exitCode) {
  auto* dataset = app.add_subcommand("dataset", "Inspect, split and convert datasets");
  dataset->require_subcommand(1);
  addInspect(dataset, exitCode);
  addSplit(dataset, exitCode);
  addExport(dataset, exitCode);
}

}  // namespace tlab::cli
