#pragma once
// Learning-rate schedules as pure functions of the optimisation step, so the GUI can plot the
// curve before training and a resumed run continues exactly where it stopped.
#include <cstdint>
#include <string>

#include "core/util/EnumNames.h"

namespace tlab::core {

enum class ScheduleKind { Constant, Step, Cosine, OneCycle };
inline constexpr auto kScheduleNames = makeNameTable(
    std::pair{ScheduleKind::Constant, "constant"}, std::pair{ScheduleKind::Step, "step"},
    std::pair{ScheduleKind::Cosine, "cosine"}, std::pair{ScheduleKind::OneCycle, "onecycle"});
const char* scheduleName(ScheduleKind kind);
/// "constant", "step", "cosine", "onecycle"; throws InvalidArgument otherwise.
ScheduleKind parseSchedule(const std::string& name);

struct ScheduleSpec {
  ScheduleKind kind = ScheduleKind::Cosine;
  double baseLr = 1e-3;  ///< peak rate (OneCycle: the maximum)
  int64_t totalSteps = 1;
  int64_t warmupSteps = 0;      ///< linear ramp from 0 to baseLr first (not for OneCycle)
  int64_t stepSize = 1;         ///< Step: decay every stepSize steps after warm-up
  double gamma = 0.1;           ///< Step: decay factor
  double minLrFraction = 0.0;   ///< Cosine: floor as a fraction of baseLr
  double pctStart = 0.3;        ///< OneCycle: fraction of steps spent rising
  double divFactor = 25.0;      ///< OneCycle: initial = baseLr / divFactor
  double finalDivFactor = 1e4;  ///< OneCycle: final = initial / finalDivFactor
};

/// The rate for optimisation step `step` (0-based).
double learningRateAt(const ScheduleSpec& spec, int64_t step);

}  // namespace tlab::core
