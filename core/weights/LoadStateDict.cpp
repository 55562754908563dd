#include <set>
#include <sstream>

#include "core/weights/StateDict.h"

namespace tlab::core {
namespace {

std::string shapeText(const torch::IntArrayRef& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  return o.str() + "]";
}

bool hasPrefix(const std::string& key, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (key.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

std::string joinList(const char* title, const std::vector<std::string>& v) {
  if (v.empty()) return "";
  std::string s = std::string("\n") + title + " (" + std::to_string(v.size()) + "):";
  for (const auto& k : v) s += "\n  " + k;
  return s;
}

}  // namespace

StateDict stateDictOf(const torch::nn::Module& module) {
  StateDict out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

LoadReport loadStateDict(torch::nn::Module& module, const StateDict& weights,
                         const std::vector<std::string>& skipPrefixes) {
  LoadReport report;
  std::map<std::string, torch::Tensor> target;
  for (auto& [key, tensor] : stateDictOf(module)) target[key] = tensor;
  std::set<std::string> seen;
  torch::NoGradGuard noGrad;
  for (const auto& [key, value] : weights) {
    if (hasPrefix(key, skipPrefixes)) {
      report.skipped.push_back(key);
      continue;
    }
    auto it = target.find(key);
    if (it == target.end()) {
      report.unexpected.push_back(key);
      continue;
    }
    seen.insert(key);
    if (it->second.sizes() != value.sizes()) {
      report.mismatched.push_back(key + ": file " + shapeText(value.sizes()) + " vs model " +
                                  shapeText(it->second.sizes()));
      continue;
    }
    it->second.copy_(value.to(it->second.dtype()));
    report.loaded.push_back(key);
  }
  for (const auto& [key, tensor] : target) {
    if (!seen.count(key) && !hasPrefix(key, skipPrefixes)) report.missing.push_back(key);
  }
  return report;
}

std::string LoadReport::summary() const {
  std::string s = std::to_string(loaded.size()) + " tensors loaded";
  if (!skipped.empty()) s += ", " + std::to_string(skipped.size()) + " skipped on purpose";
  return s + joinList("missing from the file", missing) + joinList("not in the model", unexpected) +
         joinList("shape mismatch", mismatched);
}

}  // namespace tlab::core
