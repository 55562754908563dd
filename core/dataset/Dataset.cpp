#include "core/dataset/Dataset.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/Errors.h"
#include "core/image/ImageDecoder.h"
#include "core/util/Utf8.h"

namespace tlab::core {

const char* splitName(Split split) {
  switch (split) {
    case Split::Train:
      return "train";
    case Split::Val:
      return "val";
    case Split::Test:
      return "test";
    case Split::None:
      break;
  }
  return "none";
}

std::optional<Split> parseSplit(std::string_view text) {
  const std::string s = asciiLower(std::string(text));
  if (s == "train" || s == "training") return Split::Train;
  if (s == "val" || s == "valid" || s == "validation" || s == "dev") return Split::Val;
  if (s == "test" || s == "testing") return Split::Test;
  return std::nullopt;
}

std::vector<int64_t> Dataset::classCounts(std::optional<Split> split) const {
  std::vector<int64_t> counts(classNames.size(), 0);
  for (const auto& s : samples) {
    if (split && s.split != *split) continue;
    if (s.label >= 0 && static_cast<size_t>(s.label) < counts.size()) ++counts[s.label];
  }
  return counts;
}

int64_t Dataset::splitCount(Split split) const {
  return std::count_if(samples.begin(), samples.end(),
                       [split](const Sample& s) { return s.split == split; });
}

bool Dataset::hasPredefinedSplit() const {
  return std::any_of(samples.begin(), samples.end(),
                     [](const Sample& s) { return s.split != Split::None; });
}

std::vector<size_t> Dataset::indicesOf(Split split) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].split == split) out.push_back(i);
  }
  return out;
}

std::vector<std::string> Dataset::structuralErrors() const {
  std::vector<std::string> errors;
  const std::string where = source.string() + ": ";
  if (samples.empty()) {
    errors.push_back(where + "no usable samples found" +
                     (skipped.empty() ? "" : " (" + std::to_string(skipped.size()) + " skipped)"));
    return errors;
  }
  if (classNames.size() < 2) {
    errors.push_back(where + "found " + std::to_string(classNames.size()) +
                     " class; classification needs at least 2");
  }
  const auto counts = classCounts();
  std::string empty;
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] == 0) empty += (empty.empty() ? "'" : ", '") + classNames[c] + "'";
  }
  if (!empty.empty()) errors.push_back(where + "classes without any usable sample: " + empty);
  return errors;
}

void Dataset::validate() const {
  const auto errors = structuralErrors();
  if (errors.empty()) return;
  std::string msg;
  for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
  throw InvalidArgument(msg);
}

DecodedImage Dataset::loadImage(size_t i) const {
  DecodedImage out;
  if (i >= samples.size()) {
    out.error = "sample index " + std::to_string(i) + " out of range";
    return out;
  }
  const Sample& s = samples[i];
  if (s.index >= 0 && store) {
    try {
      out.pixels = store->image(s.index);
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    return out;
  }
  return decodeImageFile(s.path);
}

namespace {
bool isInteger(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = (s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}
}  // namespace

std::vector<std::string> sortedClassNames(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (!names.empty() && std::all_of(names.begin(), names.end(), isInteger)) {
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return std::stoll(a) < std::stoll(b);
    });
  }
  return names;
}

}  // namespace tlab::core
