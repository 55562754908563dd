#pragma once
// The files a run leaves in its folder for people, scripts and reports (CLI and GUI alike):
// config.json, history.json/.csv, metrics.json, confusion_matrix.csv, predictions.csv,
// dataset.json (what it trained on), environment.json (versions, CPU, weights checksum, seed)
// and mistakes.json with mistakes/*.jpg (the most confident mistakes, thumbnails or texts).
#include <filesystem>

namespace tlab::core {

class Dataset;
struct TrainConfig;
struct TrainResult;

/// Most confident mistakes kept with thumbnails (or texts) for the run report.
inline constexpr int kReportedMistakes = 12;

/// Writes every file above atomically; throws IoError naming the file that could not be written.
void writeRunOutputs(const std::filesystem::path& dir, const TrainConfig& config,
                     const TrainResult& result, const Dataset& dataset);

}  // namespace tlab::core
