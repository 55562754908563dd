#include "core/train/LrSchedule.h"

#include <algorithm>
#include <cmath>

#include "core/Errors.h"

namespace tlab::core {
namespace {
double cosineBetween(double from, double to, double fraction) {
  return to + (from - to) * 0.5 * (1.0 + std::cos(M_PI * std::clamp(fraction, 0.0, 1.0)));
}
}  // namespace

const char* scheduleName(ScheduleKind k) { return kScheduleNames.name(k); }

ScheduleKind parseSchedule(const std::string& name) {
  return kScheduleNames.parse(name, "schedule");
}

double learningRateAt(const ScheduleSpec& s, int64_t step) {
  const int64_t total = std::max<int64_t>(1, s.totalSteps);
  step = std::clamp<int64_t>(step, 0, total - 1);
  if (s.kind == ScheduleKind::OneCycle) {
    // As torch.optim.lr_scheduler.OneCycleLR with cosine annealing.
    const double initial = s.baseLr / s.divFactor, final = initial / s.finalDivFactor;
    const double peakStep = std::max(1.0, s.pctStart * double(total) - 1.0);
    if (double(step) <= peakStep) return cosineBetween(initial, s.baseLr, double(step) / peakStep);
    return cosineBetween(s.baseLr, final,
                         (double(step) - peakStep) / std::max(1.0, double(total - 1) - peakStep));
  }
  if (step < s.warmupSteps) return s.baseLr * double(step + 1) / double(s.warmupSteps);
  const int64_t t = step - s.warmupSteps, span = std::max<int64_t>(1, total - s.warmupSteps);
  switch (s.kind) {
    case ScheduleKind::Constant:
      return s.baseLr;
    case ScheduleKind::Step:
      return s.baseLr * std::pow(s.gamma, double(t / std::max<int64_t>(1, s.stepSize)));
    case ScheduleKind::Cosine:
      return cosineBetween(s.baseLr, s.baseLr * s.minLrFraction,
                           span > 1 ? double(t) / double(span - 1) : 1.0);
    case ScheduleKind::OneCycle:
      break;
  }
  return s.baseLr;
}

}  // namespace tlab::core
