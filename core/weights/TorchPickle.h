#pragma once
// A restricted pickle reader for PyTorch checkpoints. It understands only what a state dict
// needs (containers, numbers, strings, ordered dicts, tensors and storage references) and
// resolves no Python global outside a fixed allowlist: anything else is refused with an error
// naming the global, so a malicious checkpoint cannot run code.
//
// Budget: every value lives in one PickleArena (at most kMaxPickleValues values, each costing a
// few hundred bytes; the stack and memo are capped likewise) and children are plain pointers
// into it, so a value nested a million deep, or a list that contains itself through the memo,
// is destroyed flat and never recursed into: no code walks the value graph recursively.
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace tlab::core {

struct PickleValue;
using PicklePtr = PickleValue*;
constexpr size_t kMaxPickleValues = 2'000'000;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t integer = 0;
  double real = 0;
  std::string text;              ///< String; Global "module.name"; Storage key
  std::vector<PicklePtr> items;  ///< Tuple, List
  std::vector<std::pair<PicklePtr, PicklePtr>> entries;  ///< Dict, in insertion order
  // Storage: `text` is the key, `dtype` the storage type ("FloatStorage"), `integer` numel.
  std::string dtype;
  // Tensor: a view into `storage`.
  PicklePtr storage;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

/// Owns every value of one or more pickles; destroyed without recursion.
class PickleArena {
 public:
  PicklePtr make(const std::string& path, int kind);
  const std::deque<PickleValue>& values() const { return values_; }

 private:
  std::deque<PickleValue> values_;
};

/// Unpickles one pickle starting at `pos` in `data`; advances `pos` past its STOP opcode. The
/// values live in `arena`. Throws FormatError naming `path` for anything malformed or not allowed.
PicklePtr unpickle(const std::string& path, const uint8_t* data, size_t size, size_t& pos,
                   PickleArena& arena);

/// Element size in bytes of a storage type name ("FloatStorage" -> 4); 0 when unknown.
size_t storageElementSize(const std::string& storageType);

}  // namespace tlab::core
