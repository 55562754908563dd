#include "app/cli/InspectCommand.h"

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/image/ImageDecoder.h"
#include "core/project/Project.h"
#include "core/train/Checkpoint.h"
#include "core/train/ModelBundle.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"
#include "core/weights/StateDict.h"

namespace tlab::cli {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct InspectArgs {
  std::string path;
  std::string kind = "auto";
  bool json = false;
};

std::string detectKind(const fs::path& p) {
  if (fs::is_directory(p)) {
    if (fs::exists(p / "model.json")) return "bundle";
    if (fs::exists(p / "state.json") || fs::exists(p / "checkpoints")) return "checkpoint";
    throw core::FormatError(p.string(), "folder is neither a model bundle nor a checkpoint");
  }
  const std::string ext = core::lowerExtension(p);
  if (ext == ".tlproj") return "project";
  if (ext == ".safetensors" || ext == ".pth" || ext == ".pt" || ext == ".bin") return "weights";
  if (core::hasImageExtension(p)) return "image";
  throw core::FormatError(p.string(), "cannot tell what this file is; pass --as");
}

json inspectWeights(const fs::path& p) {
  const core::StateDict sd = core::readWeights(p);
  int64_t params = 0;
  for (const auto& [k, t] : sd) params += t.numel();
  return {{"tensors", sd.size()}, {"parameters", params}};
}

json inspectCheckpoint(fs::path p) {
  if (!fs::exists(p / "state.json")) {
    const auto latest = core::latestCheckpoint(p);
    if (!latest) throw core::FormatError(p.string(), "run folder has no checkpoint");
    p = *latest;
  }
  const core::CheckpointState s = core::readCheckpointState(p);
  const auto model = core::readSafetensors(p / "model.safetensors");
  const auto optimizer = core::readSafetensors(p / "optimizer.safetensors");
  return {{"checkpoint", p.string()},
          {"epoch", s.epoch},
          {"step", s.step},
          {"model_tensors", model.size()},
          {"optimizer_tensors", optimizer.size()}};
}

json inspect(const InspectArgs& a) {
  const fs::path p = a.path;
  if (!fs::exists(fs::symlink_status(p))) throw core::IoError(a.path, "no such file or folder");
  const std::string kind = a.kind == "auto" ? detectKind(p) : a.kind;
  json out{{"path", a.path}, {"kind", kind}};
  if (kind == "weights") {
    out.update(inspectWeights(p));
  } else if (kind == "bundle") {
    const auto m = core::loadModelBundle(p);
    out.update({{"architecture", m.info.architecture}, {"classes", m.info.classNames.size()}});
    // Which files it holds, and what its export verified (model.json "verified").
    json files = json::array();
    for (const char* f :
         {"model.safetensors", "model.onnx", "model.pt", "backbone.pt", "vocab.txt"})
      if (fs::exists(p / f)) files.push_back(f);
    out["files"] = files;
    const json meta = core::readJsonFile((p / "model.json").string(), "model.json", 64 << 20);
    const auto v = meta.find("verified");
    out["verified"] = v != meta.end() && v->is_object()
                          ? *v
                          : json("no record (written before exports were verified)");
  } else if (kind == "checkpoint") {
    out.update(inspectCheckpoint(p));
  } else if (kind == "project") {
    const auto project = core::loadProject(p);
    out.update({{"name", project.name},
                {"dataset", project.dataset.path},
                {"allow_paths_outside", project.dataset.allowPathsOutside},
                {"runs", project.runs.size()}});
  } else if (kind == "image") {
    const auto img = core::decodeImageFile(p);
    if (!img.ok()) throw core::FormatError(a.path, img.error);
    out.update({{"width", img.pixels.cols}, {"height", img.pixels.rows}});
  } else {
    throw core::InvalidArgument("--as must be auto, weights, bundle, checkpoint, project or image");
  }
  return out;
}

}  // namespace

void addInspectCommand(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand(
      "inspect",
      "Read a weights file, model bundle, checkpoint, project or image and say what it holds");
  cmd->add_option("PATH", a->path, "File or folder")->required();
  cmd->add_option("--as", a->kind, "auto|weights|bundle|checkpoint|project|image");
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->callback([a] {
    const json out = inspect(*a);
    if (a->json) {
      std::cout << out.dump(2) << "\n";
      return;
    }
    for (const auto& [k, v] : out.items())
      std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  });
}

}  // namespace tlab::cli
