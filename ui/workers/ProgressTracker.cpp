#include "ui/workers/ProgressTracker.h"

#include <QCoreApplication>
#include <cmath>

namespace tlab::ui {

void ProgressTracker::report(const std::string& stage, size_t done, size_t total) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stage != stage_) {
    if (clockPerStage_ || stage_.empty()) started_ = std::chrono::steady_clock::now();
    stage_ = stage;
  }
  done_ = done;
  total_ = total;
}

void ProgressTracker::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  stage_.clear();
  done_ = total_ = 0;
}

double ProgressTracker::secondsLeft(double elapsed, double fraction) {
  if (!(fraction > 0) || fraction >= 1 || !(elapsed >= 0)) return -1;
  return elapsed / fraction * (1 - fraction);
}

ProgressTracker::Reading ProgressTracker::read() const {
  Reading r;
  std::chrono::steady_clock::time_point started;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    r.stage = QString::fromStdString(stage_);
    r.done = done_;
    r.total = total_;
    started = started_;
  }
  if (r.stage.isEmpty() || r.total == 0) return r;
  r.fraction = std::min(1.0, double(r.done) / double(r.total));
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.secondsLeft = secondsLeft(elapsed, r.fraction);
  return r;
}

QString ProgressTracker::Reading::eta() const {
  if (secondsLeft < 0) return {};
  const auto tr = [](const char* s) { return QCoreApplication::translate("ProgressTracker", s); };
  const long s = std::lround(secondsLeft);
  if (s < 90) return tr("%1 s left").arg(std::max(1L, s));
  const long min = (s + 30) / 60;
  if (min < 60) return tr("%1 min left").arg(min);
  return tr("%1 h %2 min left").arg(min / 60).arg(min % 60);
}

}  // namespace tlab::ui
