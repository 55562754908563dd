#pragma once
// The PyTorch objects a state-dict pickle may build, for the pickle machine in TorchPickle.cpp:
// allow-listed globals, storage references (persistent ids) and tensors and parameters (REDUCE
// of torch._utils._rebuild_tensor_v2 / _rebuild_parameter). Everything else is refused with a
// FormatError naming the file, the byte and the object: nothing is ever executed.
#include <cstddef>
#include <string>

#include "core/weights/TorchPickle.h"

namespace tlab::core {

/// Throws FormatError "PATH: checkpoint pickle, byte AT: WHY".
[[noreturn]] void pickleFail(const std::string& path, size_t at, const std::string& why);

PicklePtr torchGlobal(const std::string& path, PickleArena& arena, const std::string& name,
                      size_t at);
PicklePtr torchPersistent(const std::string& path, PickleArena& arena, const PicklePtr& pid,
                          size_t at);
PicklePtr torchReduce(const std::string& path, PickleArena& arena, const PicklePtr& fn,
                      const PicklePtr& args, size_t at);

}  // namespace tlab::core
