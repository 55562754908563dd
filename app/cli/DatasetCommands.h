#pragma once
// `transferlab-cli dataset ...` subcommands.
namespace CLI {
class App;
}

namespace tlab::cli {

/// Registers `dataset inspect|split|export` on `app`; each sets `exitCode` when it runs.
void addDatasetCommands(CLI::App& app, int& exitCode);

}  // namespace tlab::cli
