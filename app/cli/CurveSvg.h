#pragma once
// The data-efficiency curve as a standalone SVG (the CLI has no Qt): accuracy against samples
// per class on a log axis, one line per strategy through the means, min-max bars over seeds.
#include <string>
#include <vector>

#include "core/train/DataEfficiency.h"

namespace tlab::cli {

std::string curveSvg(const std::vector<core::CurvePoint>& points, const std::string& title);

}  // namespace tlab::cli
