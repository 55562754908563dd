#include "core/train/Checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;

namespace {
void fsyncPath(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

void saveCheckpoint(const fs::path& runDir, const CheckpointState& state,
                    const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                    const StateDict* best) {
  const fs::path root = runDir / "checkpoints";
  fs::create_directories(root);
  char name[32];
  std::snprintf(name, sizeof name, "epoch-%04d", state.epoch);
  const fs::path dir = root / name;
  const fs::path tmp = root / (std::string(name) + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  writeSafetensors(tmp / "model.safetensors", stateDictOf(model));
  if (best) writeSafetensors(tmp / "best.safetensors", *best);
  {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    std::ostringstream os;
    archive.save_to(os);
    writeFileAtomic(tmp / "optimizer.pt", os.str());
  }
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
  fsyncPath(tmp);
  fs::remove_all(dir);
  fs::rename(tmp, dir);
  fsyncPath(root);
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
  const auto j = nlohmann::json::parse(readTextFile(file, 256 << 20), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw FormatError(file.string(), "not a checkpoint state (invalid JSON)");
  CheckpointState s;
  try {
    s.epoch = j.at("epoch").get<int>();
    s.step = j.at("step").get<int64_t>();
    s.bestEpoch = j.at("best_epoch").get<int>();
    s.bestMetric = j.at("best_metric").get<double>();
    s.epochsWithoutImprovement = j.at("epochs_without_improvement").get<int>();
    s.history = j.at("history");
    s.extraFreezeRules = j.at("extra_freeze_rules");
    s.learningRateOverride = j.at("lr_override").get<double>();
    s.config = j.at("config");
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(file.string(), std::string("missing or bad field: ") + e.what());
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
  const std::string bytes = readTextFile(dir / "optimizer.pt", 4ULL << 30);
  try {
    std::istringstream is(bytes);
    torch::serialize::InputArchive archive;
    archive.load_from(is, device);  // optimiser state next to its parameters
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    throw FormatError((dir / "optimizer.pt").string(),
                      std::string("unreadable optimiser state: ") + e.what_without_backtrace());
  }
  if (best && fs::exists(dir / "best.safetensors"))
    *best = readSafetensors(dir / "best.safetensors");
}

}  // namespace tlab::core
