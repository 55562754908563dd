#pragma once
// Progress that a worker thread reports and the GUI thread reads on a timer: what runs (the
// stage), how far in it, and the time left, estimated from the stage's own pace so far. One
// implementation for every long task of the workbench (label-issue check, embedding map,
// explanations, prediction over a folder, export).
#include <QString>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace tlab::ui {

class ProgressTracker {
 public:
  /// Per stage (the default), the estimate is the current stage's time left and a new stage
  /// restarts its clock; otherwise `done / total` is the whole task's progress across stages
  /// (a weighted bar) and the clock runs from the first report.
  explicit ProgressTracker(bool clockPerStage = true) : clockPerStage_(clockPerStage) {}
  /// From any thread.
  void report(const std::string& stage, size_t done, size_t total);
  /// Back to "nothing reported yet" (before a task starts).
  void reset();

  struct Reading {
    QString stage;  ///< empty: nothing reported yet
    size_t done = 0, total = 0;
    double fraction = 0;      ///< done / total, 0 while total is 0
    double secondsLeft = -1;  ///< -1: unknown (nothing done yet in this stage, or all done)
    /// "12 s left", "3 min left", "1 h 5 min left"; empty while unknown.
    QString eta() const;
  };
  Reading read() const;
  /// The estimate from a stage's elapsed time and the fraction done in it; -1 when unknown.
  static double secondsLeft(double elapsedSeconds, double fraction);

 private:
  const bool clockPerStage_;
  mutable std::mutex mutex_;
  std::string stage_;
  size_t done_ = 0, total_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace tlab::ui
