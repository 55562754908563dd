// `transferlab-cli report`: a run, or several side by side, as a self-contained HTML file or a
// PDF, from the files the run left in its folder (no model or dataset needed).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/report/RunReport.h"

namespace tlab::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> runs, names;
  std::string out, title;
  bool json = false;
};

void report(const ReportArgs& a, int& exitCode) {
  (void)core::reportFormatFor(a.out);  // a wrong extension fails before any reading
  if (!a.names.empty() && a.names.size() != a.runs.size())
    throw core::InvalidArgument("--name is given " + std::to_string(a.names.size()) +
                                " times for " + std::to_string(a.runs.size()) + " runs");
  std::vector<core::ReportRun> runs;
  for (size_t i = 0; i < a.runs.size(); ++i) {
    runs.push_back(core::readRunFolder(a.runs[i]));
    if (!a.names.empty()) runs.back().name = a.names[i];
    if (!a.json)
      for (const auto& n : runs.back().notes) std::cerr << a.runs[i] << ": " << n << "\n";
  }
  const auto w = core::writeRunReport(runs, a.out, a.title);
  if (a.json) {
    nlohmann::json j{{"out", a.out},
                     {"format", w.format == core::ReportFormat::Pdf ? "pdf" : "html"},
                     {"bytes", w.bytes},
                     {"runs", runs.size()},
                     {"images", w.images}};
    if (w.format == core::ReportFormat::Pdf) j["pages"] = w.pages;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "wrote " << a.out << " (" << w.bytes << " bytes";
    if (w.format == core::ReportFormat::Pdf) std::cout << ", " << w.pages << " pages";
    std::cout << ", " << w.images << " thumbnails; read back and checked)\n";
  }
  exitCode = 0;
}

}  // namespace

void addReportCommand(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write a run (or a comparison of runs) as a self-contained HTML file or a PDF: "
      "configuration, dataset, curves, confusion matrix, per-class metrics, the most confident "
      "mistakes, environment");
  cmd->add_option("--run", a->runs, "Run folder (train --out); repeat to compare runs")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--name", a->names, "Name shown for each --run, in the same order");
  cmd->add_option("--title", a->title, "Report title");
  cmd->add_option("--out", a->out, "FILE.html or FILE.pdf")->required();
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->callback([a, &exitCode] { report(*a, exitCode); });
}

}  // namespace tlab::cli
