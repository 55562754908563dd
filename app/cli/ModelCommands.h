#pragma once
// `transferlab-cli backbones|model|predict|pretrain` subcommands.
namespace CLI {
class App;
}

namespace tlab::cli {

void addModelCommands(CLI::App& app, int& exitCode);

}  // namespace tlab::cli
