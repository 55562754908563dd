#pragma once
// The run report: one run, or several side by side, as a self-contained HTML file or a PDF
// (configuration, dataset summary, curves, confusion matrix, per-class table, the most
// confident mistakes with thumbnails, environment). It reads only the run folder's files
// (core/train/RunOutputs.h), so a report can be written later, elsewhere, by the CLI or the GUI.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/train/Metrics.h"
#include "core/train/TrainerEvents.h"

namespace tlab::core {

struct ReportMistake {
  size_t sample = 0;
  std::string where, trueLabel, predicted;
  double probability = 0, trueProbability = 0;
  std::string text;           ///< text datasets
  std::string thumbnailJpeg;  ///< image datasets: the JPEG file's bytes ("" when none)
};

struct ReportDataset {
  bool known = false;  ///< dataset.json was there
  std::string source, format, modality;
  std::vector<std::string> classes;
  std::vector<int64_t> train, val, test;  ///< per class, as the run split it
  int64_t skipped = 0;
};

struct ReportEvaluation {
  std::string split;  ///< "val" or "test"
  double accuracy = 0, macroF1 = 0, loss = 0;
  int64_t count = 0;
  std::vector<std::string> classNames;
  std::vector<ClassMetrics> perClass;
  std::vector<std::vector<int64_t>> confusion;  ///< [true][predicted]
};

struct ReportRun {
  std::string name;  ///< the folder's name unless the caller names it
  std::filesystem::path folder;
  std::string state;  ///< finished, cancelled, ... ("" when metrics.json does not say)
  int bestEpoch = 0;
  double seconds = 0;
  std::vector<std::pair<std::string, std::string>> settings;     ///< config.json, key order
  std::vector<std::pair<std::string, std::string>> environment;  ///< environment.json
  std::vector<EpochMetrics> history;
  std::optional<ReportEvaluation> val, test;
  ReportDataset dataset;
  std::string mistakesSplit;
  std::vector<ReportMistake> mistakes;
  std::vector<std::string> notes;  ///< what the folder lacked (older runs write fewer files)

  const ReportEvaluation* final() const { return test ? &*test : (val ? &*val : nullptr); }
};

/// Reads a run folder. It must hold config.json and history.json; the other files are
/// optional (a note says what is missing). Every file is size-capped and validated; a
/// malformed one throws FormatError naming it and the problem.
ReportRun readRunFolder(const std::filesystem::path& dir);

std::string reportHtml(const std::vector<ReportRun>& runs, const std::string& title);
std::string reportPdf(const std::vector<ReportRun>& runs, const std::string& title);

enum class ReportFormat { Html, Pdf };
/// From the file name: .html/.htm or .pdf; anything else throws InvalidArgument.
ReportFormat reportFormatFor(const std::filesystem::path& out);

struct ReportWritten {
  ReportFormat format = ReportFormat::Html;
  size_t bytes = 0;
  int pages = 0;   ///< PDF
  int images = 0;  ///< thumbnails embedded
};

/// Renders `runs` into `out` (format from its extension), atomically, then re-reads the file:
/// byte for byte, and for a PDF its structure (cross-references, pages, shown text) too.
ReportWritten writeRunReport(const std::vector<ReportRun>& runs, const std::filesystem::path& out,
                             const std::string& title = {});

}  // namespace tlab::core
