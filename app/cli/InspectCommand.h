#pragma once
// `transferlab-cli inspect FILE`: reads one file or folder through exactly the code the
// application uses to open it (weights, model bundle, checkpoint, project, image) and prints
// what it holds, or names the file and what is wrong with it (exit 3).
namespace CLI {
class App;
}

namespace tlab::cli {

void addInspectCommand(CLI::App& app);

}  // namespace tlab::cli
