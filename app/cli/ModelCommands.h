#pragma once
// `transferlab-cli backbones|model|predict|explain|pretrain|train|experiment` subcommands.
namespace CLI {
class App;
}

namespace tlab::cli {

void addModelCommands(CLI::App& app, int& exitCode);

}  // namespace tlab::cli
