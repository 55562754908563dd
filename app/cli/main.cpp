// transferlab-cli: the headless engine. Links tlab::core only.
#include <c10/util/Exception.h>
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "app/cli/DatasetCommands.h"
#include "app/cli/DistributedLaunch.h"
#include "app/cli/InspectCommand.h"
#include "app/cli/JsonReport.h"
#include "app/cli/ModelCommands.h"
#include "core/Errors.h"
#include "core/runtime/Runtime.h"
#include "core/util/Trust.h"

int main(int argc, char** argv) {
  tlab::cli::setCommandLine(argc, argv);
  CLI::App app{"TransferLab: transfer learning workbench (headless)", "transferlab-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("transferlab-cli ") + TLAB_VERSION);
  int exitCode = 0;
  bool trustTorchScript = false;
  app.add_flag("--trust-torchscript", trustTorchScript,
               "Allow loading TorchScript files (backbone .pt, a bundle's backbone.pt) named or "
               "reached by this command: loading them can run arbitrary code");
  app.fallthrough();  // the flag may follow the subcommand
  // Decided before any subcommand runs (their callbacks run inside parse()).
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") break;
    if (std::string(argv[i]) == "--trust-torchscript") tlab::core::trustAllFilesForThisProcess();
  }
  tlab::cli::addDatasetCommands(app, exitCode);
  tlab::cli::addModelCommands(app, exitCode);
  tlab::cli::addInspectCommand(app);

  bool systemJson = false;
  auto* system = app.add_subcommand("system", "Show the compute set-up (BLAS, threads, speed)");
  system->add_flag("--json", systemJson, "Print one JSON object");
  system->callback([&] {
    const auto report = tlab::core::configureRuntime();
    const auto j = tlab::cli::runtimeReport(report);
    if (systemJson) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << "BLAS     " << report.blasLibrary << " (" << j["blas_kind"].get<std::string>()
              << ")\nGEMM     " << int(report.gemmGflops) << " GFLOP/s (512^3 float)\nThreads  "
              << report.intraOpThreads << "\n";
    for (const auto& w : report.warnings) std::cout << "Warning: " << w << "\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tlab::core::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  } catch (const c10::Error& e) {
    std::cerr << "error (libtorch): " << e.what_without_backtrace() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
  return exitCode;
}
