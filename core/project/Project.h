#pragma once
// A TransferLab project (.tlproj): the dataset and how it is split, label edits, the training
// set-up (backbone, freezing, hyper-parameters) and every run with its history. Plain values,
// saved as versioned JSON; no Qt (the GUI and the CLI share it).
//
// Paths inside the file are stored relative to the project file's folder when they lie below
// it, so a project folder can be moved or shared as a whole.
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/dataset/Dataset.h"
#include "core/project/DatasetSettings.h"
#include "core/train/TrainConfig.h"
#include "core/train/TrainerEvents.h"

namespace tlab::core {

/// A user's correction of one sample: a new class, or excluded from training and evaluation.
struct LabelEdit {
  std::string sampleKey;  ///< see sampleKey()
  std::string label;      ///< class name; empty: excluded
};

/// Where a run of the project stands (saved as its "state").
enum class RunStatus { Queued, Running, Paused, Finished, Cancelled, Failed };
inline constexpr auto kRunStatusNames = makeNameTable(
    std::pair{RunStatus::Queued, "queued"}, std::pair{RunStatus::Running, "running"},
    std::pair{RunStatus::Paused, "paused"}, std::pair{RunStatus::Finished, "finished"},
    std::pair{RunStatus::Cancelled, "cancelled"}, std::pair{RunStatus::Failed, "failed"});
/// The status a run ended in, from the trainer's final state.
RunStatus endedStatus(RunState finalState);

/// One training run as the project remembers it.
struct RunRecord {
  std::string id;      ///< unique in the project ("run-1", "run-2", ...)
  std::string name;    ///< what the user sees ("linear probe", "from scratch (twin of run-2)")
  std::string folder;  ///< run folder (checkpoints, metrics, model bundle); absolute once loaded
  TrainConfig config;
  RunStatus status = RunStatus::Queued;
  std::string error;
  std::vector<EpochMetrics> history;
  std::optional<double> valAccuracy, testAccuracy;
  double seconds = 0;
};

struct Project {
  static constexpr int kFormatVersion = 1;
  std::string name = "Untitled";
  DatasetSettings dataset;
  std::vector<LabelEdit> labelEdits;
  /// Samples (core::sampleKey) the user reviewed in Data issues and kept as labelled, so a
  /// later check shows them as reviewed.
  std::vector<std::string> keptLabels;
  TrainConfig config = defaultTrainConfig();  ///< the set-up the next run starts from
  std::vector<RunRecord> runs;

  const RunRecord* findRun(const std::string& id) const;
  /// "run-N" with N one more than the highest in use.
  std::string nextRunId() const;
};

/// JSON of a project; paths relative to `baseDir` where they lie below it.
nlohmann::json toJson(const Project& project, const std::filesystem::path& baseDir);
/// Reads a project; relative paths resolve against `baseDir`. Throws FormatError naming
/// `source` and the offending key (also for a format_version newer than this build's).
Project projectFromJson(const nlohmann::json& j, const std::filesystem::path& baseDir,
                        const std::string& source);

/// Throws IoError (unreadable) or FormatError (not a project, bad field) naming the file.
Project loadProject(const std::filesystem::path& file);
/// A setting read from a project file that takes effect only with the user's consent: a project
/// someone sent must not widen what TransferLab reads or runs by itself.
struct ConsentRequest {
  enum class Kind { PathsOutsideDataset, TorchScriptBackbone };
  Kind kind;
  std::string file;      ///< the manifest or the TorchScript file concerned
  std::string question;  ///< one paragraph for the user, naming the file and the risk
};
/// What `project` asks for that needs consent (TorchScript files already trusted are left out).
std::vector<ConsentRequest> consentRequests(const Project& project);
/// Applies the user's answer: a declined PathsOutsideDataset is switched off in `project`; an
/// accepted TorchScriptBackbone trusts that file (core/util/Trust.h). Declining the TorchScript
/// leaves it untrusted, so a run refuses to load it and says why.
void applyConsent(Project& project, const ConsentRequest& request, bool granted);

/// Atomic: a crash or a full disk never leaves a half-written project (the old file stays).
void saveProject(const std::filesystem::path& file, const Project& project);

/// A stable identity for sample `i` that survives re-reading the dataset: its file path, its
/// container index ("#123"), or for inline texts "text:" + SHA-256 of the text.
std::string sampleKey(const Dataset& dataset, size_t i);
/// The dataset a run trains on: `source` with the project's label edits applied and its
/// seeded, stratified split assigned. Edits whose sample is gone are returned in `stale`.
Dataset projectDataset(const Dataset& source, const Project& project,
                       std::vector<LabelEdit>* stale = nullptr);

/// The dataset a project's runs train on, read from its files as the workbench reads it (the
/// project's reader settings, broken images left out, label edits and split applied): what a
/// training process started for the project (another rank, `train --project`) sees.
Dataset openProjectDataset(const Project& project, const std::atomic<bool>* cancel = nullptr);

/// For each sample of `source`, its split in `training` (projectDataset() of that source),
/// matched by sampleKey(); Split::None for samples training leaves out (excluded ones).
std::vector<Split> sourceSplits(const Dataset& source, const Dataset& training);

/// Applies label edits in place: relabelled samples move class (a new class name is added),
/// excluded ones are removed. Edits whose sample no longer exists are returned, not applied.
std::vector<LabelEdit> applyLabelEdits(Dataset& dataset, const std::vector<LabelEdit>& edits);

}  // namespace tlab::core
