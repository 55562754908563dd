#pragma once
// How `transferlab-cli train` reports a run: on a terminal a one-line bar with ETA for the
// training steps and for feature extraction and evaluation, otherwise one line per epoch and
// per finished task; with --json one JSON event per line. Called on the trainer thread.
#include <cstdint>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/train/TrainerEvents.h"

namespace tlab::cli {

class CliObserver : public core::TrainerObserver {
 public:
  CliObserver(bool json, int epochs);
  void onStatus(const core::StatusEvent& s) override;
  void onLog(const std::string& text) override;
  void onBatch(const core::BatchMetrics& b) override;
  void onEpoch(const core::EpochMetrics& e) override;
  void onTask(const core::TaskProgress& t) override;
  void setBatchSize(int64_t b) { lastBatch_ = b; }

 private:
  void emit(const nlohmann::json& j);
  std::string clear();
  std::mutex m_;
  bool json_, tty_;
  int epochs_;
  int64_t lastBatch_ = 32;
  bool barShown_ = false;
};

}  // namespace tlab::cli
