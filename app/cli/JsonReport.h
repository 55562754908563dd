#pragma once
// Turns core value types into the JSON documents the CLI prints (stable keys, see README).
#include <nlohmann/json.hpp>

#include "core/dataset/Dataset.h"
#include "core/runtime/Runtime.h"

namespace tlab::cli {

/// {"format","modality","num_samples","classes":{name:count},"splits":{name:count},
///  "split_classes":{split:{name:count}},"skipped":[{"path","line"?,"reason"}],"errors":[...]}
nlohmann::json datasetReport(const core::Dataset& dataset);

nlohmann::json runtimeReport(const core::RuntimeReport& report);

}  // namespace tlab::cli
