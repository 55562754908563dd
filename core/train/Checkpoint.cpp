#include "core/train/Checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "core/Errors.h"
#include "core/train/OptimizerState.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"

namespace tlab::core {
namespace fs = std::filesystem;

namespace {
void writeCheckpointFiles(const fs::path& tmp, const CheckpointState& state,
                          const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                          const StateDict* best);
void finishCheckpoint(const fs::path& root, const std::string& name);
}  // namespace

void saveCheckpoint(const fs::path& runDir, const CheckpointState& state,
                    const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                    const StateDict* best) {
  const fs::path root = runDir / "checkpoints";
  fs::create_directories(root);
  char name[32];
  std::snprintf(name, sizeof name, "epoch-%04d", state.epoch);
  const fs::path dir = root / name;
  std::string tmpName = (root / (std::string(name) + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(tmpName.data())) throw IoError(tmpName, "cannot create the checkpoint folder");
  const fs::path tmp = tmpName;
  try {
    writeCheckpointFiles(tmp, state, model, optimizer, best);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);  // e.g. a full disk: the previous checkpoint stays the latest
    throw;
  }
  fsyncPath(tmp);
  fs::remove_all(dir);
  fs::rename(tmp, dir);
  fsyncPath(root);
  finishCheckpoint(root, name);
}

namespace {

void writeCheckpointFiles(const fs::path& tmp, const CheckpointState& state,
                          const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                          const StateDict* best) {
  writeSafetensors(tmp / "model.safetensors", stateDictOf(model));
  if (best) writeSafetensors(tmp / "best.safetensors", *best);
  saveOptimizerState(optimizer, tmp / "optimizer.safetensors");
  nlohmann::json j{{"epoch", state.epoch},
                   {"step", state.step},
                   {"best_epoch", state.bestEpoch},
                   {"best_metric", state.bestMetric},
                   {"epochs_without_improvement", state.epochsWithoutImprovement},
                   {"history", state.history},
                   {"extra_freeze_rules", state.extraFreezeRules},
                   {"lr_override", state.learningRateOverride},
                   {"config", state.config}};
  writeFileAtomic(tmp / "state.json", j.dump(1));
}

void finishCheckpoint(const fs::path& root, const std::string& name) {
  // Read the old pointer before replacing it: the previous checkpoint stays as a fallback.
  std::string previous;
  if (fs::exists(root / "latest")) previous = readTextFile(root / "latest", 4096);
  writeFileAtomic(root / "latest", name);
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory() && n != name && n != previous && n.rfind("epoch-", 0) == 0)
      fs::remove_all(e.path());
  }
}

}  // namespace

std::optional<fs::path> latestCheckpoint(const fs::path& runDir) {
  const fs::path pointer = runDir / "checkpoints" / "latest";
  if (!fs::exists(pointer)) return std::nullopt;
  const std::string name = readTextFile(pointer, 4096);
  if (name.rfind("epoch-", 0) != 0 || name.find('/') != std::string::npos) {
    throw FormatError(pointer.string(), "does not name a checkpoint folder");
  }
  const fs::path dir = runDir / "checkpoints" / name;
  if (!fs::exists(dir / "state.json"))
    throw FormatError(dir.string(), "checkpoint folder is incomplete");
  return dir;
}

CheckpointState readCheckpointState(const fs::path& dir) {
  const fs::path file = dir / "state.json";
  const auto j = readJsonFile(file.string(), "checkpoint state", 256 << 20);
  CheckpointState s;
  try {
    const std::string f = file.string();
    s.epoch = jsonIntegerAs<int>(j.at("epoch"), f, "epoch");
    s.step = jsonIntegerAs<int64_t>(j.at("step"), f, "step");
    s.bestEpoch = jsonIntegerAs<int>(j.at("best_epoch"), f, "best_epoch");
    s.bestMetric = j.at("best_metric").get<double>();
    s.epochsWithoutImprovement =
        jsonIntegerAs<int>(j.at("epochs_without_improvement"), f, "epochs_without_improvement");
    s.history = j.at("history");
    s.extraFreezeRules = j.at("extra_freeze_rules");
    s.learningRateOverride = j.at("lr_override").get<double>();
    s.config = j.at("config");
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(file.string(), std::string("missing or bad field: ") + e.what());
  }
  // Checked here so the trainer can read them without further checks.
  if (!s.history.is_array() || !s.extraFreezeRules.is_array() || !s.config.is_object())
    throw FormatError(file.string(), "history, extra_freeze_rules or config has the wrong type");
  for (const auto& r : s.extraFreezeRules) {
    if (!r.is_object() || !r.contains("pattern") || !r["pattern"].is_string() ||
        !r.contains("frozen") || !r["frozen"].is_boolean())
      throw FormatError(file.string(),
                        "extra_freeze_rules: each rule needs a string \"pattern\" "
                        "and a boolean \"frozen\", found " +
                            jsonSnippet(r));
  }
  return s;
}

void loadCheckpointTensors(const fs::path& dir, torch::nn::Module& model,
                           torch::optim::Optimizer& optimizer, StateDict* best,
                           torch::Device device) {
  const LoadReport r = loadStateDict(model, readSafetensors(dir / "model.safetensors"));
  if (!r.complete())
    throw FormatError((dir / "model.safetensors").string(),
                      "does not fit the model: " + r.summary());
  // Older checkpoints kept a TorchScript archive (optimizer.pt), which can run code when loaded:
  // it is never read. Such a run resumes with fresh optimiser state, and says so.
  if (!fs::exists(dir / "optimizer.safetensors")) {
    throw FormatError((dir / "optimizer.safetensors").string(),
                      "missing (a checkpoint from an older TransferLab keeps its optimiser state "
                      "in optimizer.pt, which is not loaded because it can run code)");
  }
  loadOptimizerState(optimizer, dir / "optimizer.safetensors", device);
  if (best && fs::exists(dir / "best.safetensors"))
    *best = readSafetensors(dir / "best.safetensors");
}

}  // namespace tlab::core
