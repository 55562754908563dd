#pragma once
// A restricted pickle reader for PyTorch checkpoints. It understands only what a state dict
// needs (containers, numbers, strings, ordered dicts, tensors and storage references) and
// resolves no Python global outside a fixed allowlist: anything else is refused with an error
// naming the global, so a malicious checkpoint cannot run code. Bounded: stack, memo and
// string sizes are checked against the input.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tlab::core {

struct PickleValue;
using PicklePtr = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t integer = 0;
  double real = 0;
  std::string text;  ///< String; Global "module.name"; Storage key
  std::vector<PicklePtr> items;                          ///< Tuple, List
  std::vector<std::pair<PicklePtr, PicklePtr>> entries;  ///< Dict, in insertion order
  // Storage: `text` is the key, `dtype` the storage type ("FloatStorage"), `integer` numel.
  std::string dtype;
  // Tensor: a view into `storage`.
  PicklePtr storage;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

/// Unpickles one pickle starting at `pos` in `data`; advances `pos` past its STOP opcode.
/// Throws FormatError naming `path` for anything malformed or not allowed.
PicklePtr unpickle(const std::string& path, const uint8_t* data, size_t size, size_t& pos);

/// Element size in bytes of a storage type name ("FloatStorage" -> 4); 0 when unknown.
size_t storageElementSize(const std::string& storageType);

}  // namespace tlab::core
