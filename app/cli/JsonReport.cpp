#include "app/cli/JsonReport.h"

namespace tlab::cli {
using nlohmann::json;

namespace {
json countsByName(const core::Dataset& ds, std::optional<core::Split> split) {
  json out = json::object();
  const auto counts = ds.classCounts(split);
  for (size_t c = 0; c < counts.size(); ++c) out[ds.classNames[c]] = counts[c];
  return out;
}
}  // namespace

json datasetReport(const core::Dataset& ds) {
  json j;
  j["path"] = ds.source.string();
  j["format"] = ds.format;
  j["modality"] = ds.modality == core::Modality::Image ? "image" : "text";
  j["num_samples"] = ds.size();
  j["num_classes"] = ds.numClasses();
  j["classes"] = countsByName(ds, std::nullopt);
  json splits = json::object();
  json splitClasses = json::object();
  for (auto s : {core::Split::Train, core::Split::Val, core::Split::Test, core::Split::None}) {
    const auto n = ds.splitCount(s);
    if (n == 0) continue;
    const char* name = s == core::Split::None ? "unassigned" : core::splitName(s);
    splits[name] = n;
    splitClasses[name] = countsByName(ds, s);
  }
  j["splits"] = splits;
  j["split_classes"] = splitClasses;
  json skipped = json::array();
  for (const auto& s : ds.skipped) {
    json item{{"path", s.path}, {"reason", s.reason}};
    if (s.line > 0) item["line"] = s.line;
    skipped.push_back(item);
  }
  j["skipped"] = skipped;
  j["errors"] = ds.structuralErrors();
  return j;
}

json runtimeReport(const core::RuntimeReport& r) {
  return json{{"blas_library", r.blasLibrary},       {"blas_kind", core::blasKindName(r.blasKind)},
              {"gemm_gflops", r.gemmGflops},         {"intra_op_threads", r.intraOpThreads},
              {"allocator_tuned", r.allocatorTuned}, {"warnings", r.warnings}};
}

}  // namespace tlab::cli
