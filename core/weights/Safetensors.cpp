#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/util/FileUtil.h"
#include "core/util/Json.h"
#include "core/weights/StateDict.h"

namespace tlab::core {
namespace {

struct DType {
  const char* name;
  torch::ScalarType type;
  size_t size;
};
const DType kDTypes[] = {{"F32", torch::kFloat, 4}, {"F64", torch::kDouble, 8},
                         {"F16", torch::kHalf, 2},  {"BF16", torch::kBFloat16, 2},
                         {"I64", torch::kLong, 8},  {"I32", torch::kInt, 4},
                         {"I16", torch::kShort, 2}, {"I8", torch::kChar, 1},
                         {"U8", torch::kByte, 1},   {"BOOL", torch::kBool, 1}};

const DType* dtypeByName(const std::string& n) {
  for (const auto& d : kDTypes) {
    if (n == d.name) return &d;
  }
  return nullptr;
}

struct Range {
  uint64_t begin, end;
  std::string key;
  const DType* dtype;
  std::vector<int64_t> sizes;
};

// One header entry, checked against the data area before anything is allocated.
Range parseRange(const std::string& path, const std::string& key, const nlohmann::json& info,
                 uint64_t dataSize) {
  const std::string where = "tensor '" + key + "': ";
  if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
      !info.contains("data_offsets")) {
    throw FormatError(path, where + "needs dtype, shape and data_offsets");
  }
  const auto& dt = info["dtype"];
  const DType* d = dt.is_string() ? dtypeByName(dt.get<std::string>()) : nullptr;
  if (!d) throw FormatError(path, where + "dtype " + jsonSnippet(dt) + " is not supported");
  const auto& shape = info["shape"];
  const auto& offs = info["data_offsets"];
  if (!shape.is_array() || !offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() ||
      !offs[1].is_number_unsigned()) {
    throw FormatError(path, where + "malformed shape or data_offsets");
  }
  std::vector<int64_t> sizes;
  uint64_t numel = 1;
  for (const auto& s : shape) {
    if (!s.is_number_unsigned())
      throw FormatError(path, where + "shape entries must be non-negative integers");
    const uint64_t v = s.get<uint64_t>();
    if (v != 0 && numel > dataSize / v)
      throw FormatError(path, where + "shape is larger than the file");
    numel *= v;
    sizes.push_back(int64_t(v));
  }
  const uint64_t b = offs[0].get<uint64_t>(), e = offs[1].get<uint64_t>();
  if (b > e || e > dataSize) {
    throw FormatError(path, where + "data_offsets [" + std::to_string(b) + ", " +
                                std::to_string(e) + "] lie outside the " +
                                std::to_string(dataSize) + "-byte data area");
  }
  if (e - b != numel * d->size) {
    throw FormatError(path, where + "shape x dtype is " + std::to_string(numel * d->size) +
                                " bytes but data_offsets span " + std::to_string(e - b));
  }
  if (sizes.size() > 64) throw FormatError(path, where + "has more than 64 dimensions");
  return {b, e, key, d, std::move(sizes)};
}

// The ranges, sorted by offset, must tile the data area exactly: no overlap, no hole.
void checkTiling(const std::string& path, std::vector<Range>& ranges, uint64_t dataSize) {
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& x, const Range& y) { return x.begin < y.begin; });
  uint64_t expected = 0;
  for (const auto& r : ranges) {
    if (r.begin != expected) {
      throw FormatError(path, r.begin < expected
                                  ? "tensor '" + r.key + "' overlaps the previous tensor"
                                  : "hole in the data area before tensor '" + r.key + "'");
    }
    expected = r.end;
  }
  if (expected != dataSize)
    throw FormatError(
        path, "data area has " + std::to_string(dataSize - expected) + " unused trailing bytes");
}

}  // namespace

StateDict readSafetensors(const std::filesystem::path& fsPath, const WeightLimits& limits) {
  const std::string path = fsPath.string();
  const auto bytes = readFileBytes(fsPath, limits.maxFileBytes);
  if (bytes.size() < 8)
    throw FormatError(path, "not a safetensors file (shorter than its 8-byte header length)");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > limits.maxHeaderBytes) {
    throw FormatError(path, "safetensors header declares " + std::to_string(headerLen) +
                                " bytes (limit " + std::to_string(limits.maxHeaderBytes) + ")");
  }
  if (headerLen > bytes.size() - 8)
    throw FormatError(path, "truncated safetensors file: header runs past the end");
  const auto header = parseJsonDocument(
      std::string_view(reinterpret_cast<const char*>(bytes.data()) + 8, size_t(headerLen)), path,
      "safetensors header");
  const uint64_t dataStart = 8 + headerLen, dataSize = bytes.size() - dataStart;

  // Everything is validated before a single tensor is allocated.
  std::vector<Range> ranges;
  for (const auto& [key, info] : header.items()) {
    if (key != "__metadata__") ranges.push_back(parseRange(path, key, info, dataSize));
  }
  checkTiling(path, ranges, dataSize);
  // File order (the JSON object is keyed alphabetically, so by offset). The ranges tile the data
  // area exactly, so the tensors together take no more memory than the file.
  StateDict out;
  out.reserve(ranges.size());
  for (const auto& r : ranges) {
    auto t = torch::empty(r.sizes, torch::TensorOptions().dtype(r.dtype->type));
    if (r.end > r.begin)
      std::memcpy(t.data_ptr(), bytes.data() + dataStart + r.begin, r.end - r.begin);
    out.emplace_back(r.key, std::move(t));
  }
  return out;
}

void writeSafetensors(const std::filesystem::path& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [key, tensor] : tensors) {
    torch::Tensor t = tensor.detach().to(torch::kCPU);
    if (t.is_floating_point()) t = t.to(torch::kFloat);
    t = t.contiguous();
    const char* name = nullptr;
    for (const auto& d : kDTypes) {
      if (d.type == t.scalar_type()) name = d.name;
    }
    if (!name)
      throw InvalidArgument(path.string() + ": tensor '" + key + "' has an unsupported dtype");
    const uint64_t begin = data.size();
    data.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
    header[key] = {{"dtype", name},
                   {"shape", t.sizes().vec()},
                   {"data_offsets", {begin, uint64_t(data.size())}}};
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = char((uint64_t(json.size()) >> (8 * i)) & 0xFF);
  writeFileAtomic(path, file + json + data);
}

}  // namespace tlab::core
