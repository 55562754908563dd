#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "core/Errors.h"
#include "core/util/FileUtil.h"
#include "core/weights/StateDict.h"
#include "core/weights/TorchPickle.h"
#include "core/weights/ZipReader.h"

namespace tlab::core {
namespace {

torch::ScalarType scalarType(const std::string& storage) {
  if (storage == "FloatStorage") return torch::kFloat;
  if (storage == "DoubleStorage") return torch::kDouble;
  if (storage == "HalfStorage") return torch::kHalf;
  if (storage == "BFloat16Storage") return torch::kBFloat16;
  if (storage == "LongStorage") return torch::kLong;
  if (storage == "IntStorage") return torch::kInt;
  if (storage == "ShortStorage") return torch::kShort;
  if (storage == "CharStorage") return torch::kChar;
  if (storage == "BoolStorage") return torch::kBool;
  return torch::kByte;
}

// Raw bytes of one storage, by key; must hold numel * element size bytes.
using StorageBytes = std::function<const std::vector<uint8_t>&(const PickleValue& storage)>;

// Tensors may alias one storage (tied weights); their copies together may not exceed this
// multiple of the storage bytes they come from (a stride-0 or memo-repeated view of a tiny
// storage would otherwise expand a small file into gigabytes).
constexpr uint64_t kMaxAliasFactor = 4;
// Decompressed archive content may not exceed this multiple of the file's size (PyTorch stores
// its entries uncompressed; a deflate bomb expands by up to ~1000x).
constexpr uint64_t kMaxZipExpansion = 8;

struct MaterialiseBudget {
  uint64_t storageBytes = 0;  ///< bytes of distinct storages seen so far
  uint64_t tensorBytes = 0;   ///< bytes of tensors produced so far
  std::set<std::string> seenStorage;
};

torch::Tensor materialise(const std::string& path, const std::string& key, const PickleValue& t,
                          const StorageBytes& storageBytes, MaterialiseBudget& budget) {
  const PickleValue& s = *t.storage;
  const size_t elem = storageElementSize(s.dtype);
  const auto& raw = storageBytes(s);
  if (raw.size() / elem < uint64_t(s.integer)) {
    throw FormatError(path, "tensor '" + key + "': storage " + s.text + " holds " +
                                std::to_string(raw.size()) + " bytes, fewer than its " +
                                std::to_string(s.integer) + " elements");
  }
  // Highest element the view touches must lie inside the storage.
  uint64_t last = uint64_t(t.offset);
  bool empty = false;
  bool outside = last > uint64_t(s.integer);
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    if (t.sizes[d] == 0) {
      empty = true;
      continue;
    }
    const uint64_t span = uint64_t(t.sizes[d] - 1), stride = uint64_t(t.strides[d]);
    if (stride != 0 &&
        span > (uint64_t(s.integer) - std::min(last, uint64_t(s.integer))) / stride) {
      outside = true;  // also catches products that would overflow
    } else {
      last += span * stride;
    }
  }
  if (outside) last = uint64_t(s.integer);
  if (!empty && last >= uint64_t(s.integer)) {
    throw FormatError(path,
                      "tensor '" + key + "': shape and strides reach past the end of its storage");
  }
  // Overflow-safe element count, bounded by the storage it is a view of.
  uint64_t numel = 1;
  for (const int64_t d : t.sizes) {
    if (d != 0 && numel > uint64_t(s.integer) / uint64_t(d)) {
      throw FormatError(path, "tensor '" + key + "' has more elements than its storage (" +
                                  std::to_string(s.integer) + "): an expanding view is refused");
    }
    numel *= uint64_t(d);
  }
  if (budget.seenStorage.insert(s.text).second) budget.storageBytes += uint64_t(s.integer) * elem;
  budget.tensorBytes += numel * elem;
  if (budget.tensorBytes > kMaxAliasFactor * budget.storageBytes + (1 << 20)) {
    throw FormatError(path, "tensors repeat their storages more than " +
                                std::to_string(kMaxAliasFactor) + "x (" +
                                std::to_string(budget.tensorBytes) + " bytes of tensors from " +
                                std::to_string(budget.storageBytes) + " bytes of data): refused");
  }
  auto storage = torch::empty({s.integer}, torch::TensorOptions().dtype(scalarType(s.dtype)));
  if (s.integer) std::memcpy(storage.data_ptr(), raw.data(), size_t(s.integer) * elem);
  if (empty) return torch::empty(t.sizes, storage.options());
  return storage.as_strided(t.sizes, t.strides, t.offset).clone();
}

StateDict toStateDict(const std::string& path, PicklePtr root, const StorageBytes& storageBytes) {
  MaterialiseBudget budget;
  if (root->kind != PickleValue::Kind::Dict)
    throw FormatError(path, "checkpoint is not a dictionary of tensors");
  // Training checkpoints often nest the weights: {"state_dict": {...}} or {"model": {...}}.
  for (const auto& [k, v] : root->entries) {
    if (k->kind == PickleValue::Kind::String && (k->text == "state_dict" || k->text == "model") &&
        v->kind == PickleValue::Kind::Dict) {
      root = v;
      break;
    }
  }
  StateDict out;
  for (const auto& [k, v] : root->entries) {
    if (k->kind != PickleValue::Kind::String || v->kind != PickleValue::Kind::Tensor) continue;
    out.emplace_back(k->text, materialise(path, k->text, *v, storageBytes, budget));
  }
  if (out.empty()) throw FormatError(path, "checkpoint holds no tensors");
  return out;
}

StateDict readZipPth(const std::string& path, const std::vector<uint8_t>& bytes,
                     const WeightLimits& limits) {
  ZipReader zip(path, bytes);
  const ZipReader::Entry* pkl = nullptr;
  for (const auto& e : zip.entries()) {
    if (e.name.size() >= 9 && e.name.compare(e.name.size() - 9, 9, "/data.pkl") == 0) pkl = &e;
  }
  if (!pkl) throw FormatError(path, "zip archive has no data.pkl: not a PyTorch checkpoint");
  const std::string prefix = pkl->name.substr(0, pkl->name.size() - 8);  // "archive/"
  uint64_t expandBudget = kMaxZipExpansion * bytes.size() + (1 << 20);
  auto readBounded = [&](const ZipReader::Entry& e, uint64_t cap) {
    if (e.size > expandBudget) {
      throw FormatError(path, "archive entries expand to more than " +
                                  std::to_string(kMaxZipExpansion) +
                                  "x the file's size (decompression bomb?)");
    }
    auto data = zip.read(e, cap);
    expandBudget -= data.size();
    return data;
  };
  const auto pickle = readBounded(*pkl, limits.maxHeaderBytes);
  size_t pos = 0;
  PickleArena arena;
  PicklePtr root = unpickle(path, pickle.data(), pickle.size(), pos, arena);
  std::map<std::string, std::vector<uint8_t>> cache;
  return toStateDict(path, root, [&](const PickleValue& s) -> const std::vector<uint8_t>& {
    auto it = cache.find(s.text);
    if (it != cache.end()) return it->second;
    const auto* e = zip.find(prefix + "data/" + s.text);
    if (!e) throw FormatError(path, "storage '" + s.text + "' is missing from the archive");
    return cache[s.text] = readBounded(*e, limits.maxFileBytes);
  });
}

// Legacy torch.save: magic number, protocol version and system info pickles, the object
// pickle, the list of storage keys, then per key an int64 element count and the raw bytes.
StateDict readLegacyPth(const std::string& path, const std::vector<uint8_t>& bytes) {
  size_t pos = 0;
  PickleArena arena;
  const PicklePtr magic = unpickle(path, bytes.data(), bytes.size(), pos, arena);
  // 0x1950a86a20f9469cfc6c, little-endian as pickled.
  const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  if (magic->kind != PickleValue::Kind::Int || magic->dtype != "bigint" || magic->text != kMagic) {
    throw FormatError(path, "not a PyTorch checkpoint (legacy magic number missing)");
  }
  const PicklePtr version = unpickle(path, bytes.data(), bytes.size(), pos, arena);
  if (version->kind != PickleValue::Kind::Int || version->integer != 1001) {
    throw FormatError(path, "unsupported legacy checkpoint protocol version");
  }
  unpickle(path, bytes.data(), bytes.size(), pos, arena);  // sys info (endianness, type sizes)
  const PicklePtr root = unpickle(path, bytes.data(), bytes.size(), pos, arena);
  const PicklePtr keys = unpickle(path, bytes.data(), bytes.size(), pos, arena);
  if (keys->kind != PickleValue::Kind::List)
    throw FormatError(path, "legacy checkpoint: storage key list missing");
  std::map<std::string, std::vector<uint8_t>> data;
  std::map<std::string, size_t> elementSize;
  // Every tensor record in the file, found by a flat pass over the arena (no recursion: the
  // value graph may be deep or cyclic).
  for (const PickleValue& v : arena.values()) {
    if (v.kind == PickleValue::Kind::Tensor)
      elementSize[v.storage->text] = storageElementSize(v.storage->dtype);
  }
  for (const auto& k : keys->items) {
    if (k->kind != PickleValue::Kind::String)
      throw FormatError(path, "legacy checkpoint: bad storage key");
    if (bytes.size() - pos < 8)
      throw FormatError(path, "truncated: storage '" + k->text + "' is missing");
    uint64_t numel = 0;
    for (int i = 7; i >= 0; --i) numel = (numel << 8) | bytes[pos + i];
    pos += 8;
    const size_t elem = elementSize.count(k->text) ? elementSize[k->text] : 1;
    if (data.count(k->text))
      throw FormatError(path, "legacy checkpoint: storage '" + k->text + "' appears twice");
    if (numel > (bytes.size() - pos) / elem) {
      throw FormatError(path, "truncated: storage '" + k->text + "' declares " +
                                  std::to_string(numel) + " elements but only " +
                                  std::to_string(bytes.size() - pos) + " bytes remain");
    }
    data[k->text].assign(bytes.begin() + pos, bytes.begin() + pos + numel * elem);
    pos += numel * elem;
  }
  return toStateDict(path, root, [&](const PickleValue& s) -> const std::vector<uint8_t>& {
    auto it = data.find(s.text);
    if (it == data.end())
      throw FormatError(path, "storage '" + s.text + "' is missing from the file");
    return it->second;
  });
}

}  // namespace

StateDict readPth(const std::filesystem::path& fsPath, const WeightLimits& limits) {
  const std::string path = fsPath.string();
  const auto bytes = readFileBytes(fsPath, limits.maxFileBytes);
  if (bytes.empty()) throw FormatError(path, "empty file (0 bytes)");
  if (ZipReader::looksLikeZip(bytes)) return readZipPth(path, bytes, limits);
  if (bytes.size() >= 2 && bytes[0] == 0x80) return readLegacyPth(path, bytes);
  throw FormatError(path, "not a PyTorch checkpoint (neither zip nor legacy pickle format)");
}

StateDict readWeights(const std::filesystem::path& path, const WeightLimits& limits) {
  const auto head = readFileHead(path, 9);  // refuses FIFOs and devices without blocking
  if (head.size() == 9 && head[8] == '{') return readSafetensors(path, limits);
  return readPth(path, limits);
}

}  // namespace tlab::core
