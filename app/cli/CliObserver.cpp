#include "CliObserver.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace tlab::cli {
using nlohmann::json;

CliObserver::CliObserver(bool json, int epochs)
    : json_(json), tty_(isatty(STDERR_FILENO)), epochs_(epochs) {}

void CliObserver::onStatus(const core::StatusEvent& s) {
  std::lock_guard<std::mutex> lock(m_);
  if (json_)
    emit({{"event", "status"}, {"state", core::runStateName(s.state)}, {"message", s.message}});
  else if (!s.message.empty() || s.state != core::RunState::Started)
    std::cerr << clear() << "[" << core::runStateName(s.state) << "] " << s.message << "\n";
}

void CliObserver::onLog(const std::string& text) {
  std::lock_guard<std::mutex> lock(m_);
  if (json_)
    emit({{"event", "log"}, {"message", text}});
  else
    std::cerr << clear() << text << "\n";
}

void CliObserver::onBatch(const core::BatchMetrics& b) {
  std::lock_guard<std::mutex> lock(m_);
  if (json_) {
    if (b.stepInEpoch % 10 == 0 || b.stepInEpoch == b.stepsPerEpoch) {
      emit({{"event", "batch"},
            {"epoch", b.epoch},
            {"step", b.step},
            {"loss", b.loss},
            {"accuracy", b.accuracy},
            {"lr", b.learningRate},
            {"images_per_second", b.imagesPerSecond}});
    }
    return;
  }
  if (!tty_) return;
  const double frac = double(b.stepInEpoch) / double(std::max<int64_t>(1, b.stepsPerEpoch));
  const int width = 24, filled = int(frac * width);
  const double remainingSteps =
      double(b.stepsPerEpoch - b.stepInEpoch) + double(epochs_ - b.epoch) * double(b.stepsPerEpoch);
  const double stepSeconds =
      b.imagesPerSecond > 0 ? 1.0 / b.imagesPerSecond * double(lastBatch_) : 0;
  std::fprintf(stderr, "\repoch %d/%d [%s%s] %3d%%  loss %.4f  acc %.3f  %.1f img/s  ETA %ds   ",
               b.epoch, epochs_, std::string(size_t(filled), '#').c_str(),
               std::string(size_t(width - filled), '.').c_str(), int(frac * 100), b.loss,
               b.accuracy, b.imagesPerSecond, int(remainingSteps * stepSeconds));
  barShown_ = true;
}

void CliObserver::onEpoch(const core::EpochMetrics& e) {
  std::lock_guard<std::mutex> lock(m_);
  if (json_) {
    emit({{"event", "epoch"},
          {"epoch", e.epoch},
          {"phase", e.phase},
          {"train_loss", e.trainLoss},
          {"train_accuracy", e.trainAccuracy},
          {"val_loss", e.valLoss},
          {"val_accuracy", e.valAccuracy},
          {"seconds", e.seconds},
          {"lr", e.learningRate},
          {"improved", e.improved}});
    return;
  }
  std::fprintf(stderr,
               "%sepoch %d/%d %-14s train loss %.4f acc %.4f | val loss %.4f acc %.4f | %.1f s%s\n",
               clear().c_str(), e.epoch, e.epochs, e.phase.c_str(), e.trainLoss, e.trainAccuracy,
               e.valLoss, e.valAccuracy, e.seconds, e.improved ? "  *" : "");
}

// Feature extraction and evaluation: a bar with an ETA on a terminal, one line when done
// otherwise, "task" events in JSON.
void CliObserver::onTask(const core::TaskProgress& t) {
  std::lock_guard<std::mutex> lock(m_);
  const bool finished = t.done >= t.total;
  if (json_) {
    emit({{"event", "task"},
          {"task", t.task},
          {"done", t.done},
          {"total", t.total},
          {"seconds", t.seconds},
          {"eta_seconds", t.etaSeconds()}});
    return;
  }
  if (finished) {
    std::fprintf(stderr, "%s%s: %lld in %.1f s\n", clear().c_str(), t.task.c_str(),
                 static_cast<long long>(t.total), t.seconds);
    return;
  }
  if (!tty_) return;
  const double frac = t.total > 0 ? double(t.done) / double(t.total) : 0;
  const int width = 24, filled = int(frac * width);
  const double eta = t.etaSeconds();
  std::fprintf(stderr, "\r%s [%s%s] %3d%%  %lld/%lld  ETA %s   ", t.task.c_str(),
               std::string(size_t(filled), '#').c_str(),
               std::string(size_t(width - filled), '.').c_str(), int(frac * 100),
               static_cast<long long>(t.done), static_cast<long long>(t.total),
               eta < 0 ? "?" : (std::to_string(int(eta + 0.5)) + "s").c_str());
  barShown_ = true;
}

void CliObserver::emit(const json& j) { std::cout << j.dump() << std::endl; }

std::string CliObserver::clear() {
  if (!barShown_) return "";
  barShown_ = false;
  return "\r" + std::string(100, ' ') + "\r";
}

}  // namespace tlab::cli
