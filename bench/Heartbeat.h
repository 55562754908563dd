#pragma once
// GUI event-loop latency probe for the GUI benchmarks: a 10 ms precise timer on the GUI
// thread; each tick records how late it fired. GUI thread only.
#include <QElapsedTimer>
#include <QTimer>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace tlab::bench {

class Heartbeat {
 public:
  static constexpr int kPeriodMs = 10;

  Heartbeat() {
    timer_.setTimerType(Qt::PreciseTimer);
    timer_.setInterval(kPeriodMs);
    QObject::connect(&timer_, &QTimer::timeout, [this] {
      const qint64 now = clock_.nsecsElapsed();
      if (last_ >= 0) late_.push_back(std::max(0.0, double(now - last_) / 1e6 - kPeriodMs));
      last_ = now;
    });
  }
  void start() {
    clock_.start();
    timer_.start();
  }
  void stop() { timer_.stop(); }
  /// Milliseconds since start().
  qint64 elapsedMs() const { return clock_.elapsed(); }

  /// {"ticks", "p50_ms", "p99_ms", "max_ms"} of the lateness seen so far.
  nlohmann::json summary() const {
    std::vector<double> s = late_;
    std::sort(s.begin(), s.end());
    auto pct = [&](double q) { return s.empty() ? 0 : s[size_t(q * double(s.size() - 1))]; };
    return {{"ticks", s.size()},
            {"p50_ms", pct(0.5)},
            {"p99_ms", pct(0.99)},
            {"max_ms", s.empty() ? 0 : s.back()}};
  }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ = -1;
  std::vector<double> late_;
};

}  // namespace tlab::bench
