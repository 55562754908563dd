#include "core/weights/TorchObjects.h"

#include "core/Errors.h"

namespace tlab::core {
namespace {

const char* const kStorageTypes[] = {
    "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
    "IntStorage",   "ShortStorage",  "CharStorage", "ByteStorage",     "BoolStorage"};

bool allowedGlobal(const std::string& name) {
  if (name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
      name == "torch._utils._rebuild_parameter") {
    return true;
  }
  for (const char* s : kStorageTypes) {
    if (name == std::string("torch.") + s) return true;
  }
  return false;
}

std::vector<int64_t> ints(const std::string& path, const PicklePtr& v, size_t at) {
  if (v->kind != PickleValue::Kind::Tuple)
    pickleFail(path, at, "tensor size/stride is not a tuple");
  std::vector<int64_t> out;
  for (const auto& i : v->items) {
    if (i->kind != PickleValue::Kind::Int || i->integer < 0)
      pickleFail(path, at, "bad tensor size or stride");
    out.push_back(i->integer);
  }
  return out;
}

PicklePtr rebuildTensor(const std::string& path, PickleArena& arena,
                        const std::vector<PicklePtr>& a, size_t at) {
  if (a.size() < 4 || a[0]->kind != PickleValue::Kind::Storage ||
      a[1]->kind != PickleValue::Kind::Int) {
    pickleFail(path, at, "malformed tensor record");
  }
  auto t = arena.make(path, int(PickleValue::Kind::Tensor));
  t->storage = a[0];
  t->offset = a[1]->integer;
  t->sizes = ints(path, a[2], at);
  t->strides = ints(path, a[3], at);
  if (t->sizes.size() != t->strides.size() || t->offset < 0)
    pickleFail(path, at, "tensor sizes and strides disagree");
  return t;
}

}  // namespace

void pickleFail(const std::string& path, size_t at, const std::string& why) {
  throw FormatError(path, "checkpoint pickle, byte " + std::to_string(at) + ": " + why);
}

PicklePtr torchGlobal(const std::string& path, PickleArena& arena, const std::string& name,
                      size_t at) {
  if (!allowedGlobal(name)) {
    pickleFail(path, at,
               "refused: the checkpoint references the Python object '" + name +
                   "'; only tensors, storages and ordered dicts are allowed (nothing is executed)");
  }
  auto v = arena.make(path, int(PickleValue::Kind::Global));
  v->text = name;
  return v;
}

PicklePtr torchPersistent(const std::string& path, PickleArena& arena, const PicklePtr& pid,
                          size_t at) {
  const auto& t = pid->items;
  if (pid->kind != PickleValue::Kind::Tuple || t.size() < 5 || t[0]->text != "storage" ||
      t[1]->kind != PickleValue::Kind::Global || t[2]->kind != PickleValue::Kind::String ||
      t[4]->kind != PickleValue::Kind::Int) {
    pickleFail(path, at, "persistent id is not a storage reference");
  }
  auto v = arena.make(path, int(PickleValue::Kind::Storage));
  v->dtype = t[1]->text.substr(t[1]->text.rfind('.') + 1);
  if (storageElementSize(v->dtype) == 0)
    pickleFail(path, at, "storage type " + v->dtype + " is not a tensor storage");
  v->text = t[2]->text;
  v->integer = t[4]->integer;
  if (v->integer < 0) pickleFail(path, at, "negative storage size");
  return v;
}

PicklePtr torchReduce(const std::string& path, PickleArena& arena, const PicklePtr& fn,
                      const PicklePtr& args, size_t at) {
  if (fn->kind != PickleValue::Kind::Global || args->kind != PickleValue::Kind::Tuple)
    pickleFail(path, at, "bad REDUCE");
  const auto& a = args->items;
  if (fn->text == "collections.OrderedDict") {
    if (!a.empty()) pickleFail(path, at, "OrderedDict with constructor arguments");
    return arena.make(path, int(PickleValue::Kind::Dict));
  }
  if (fn->text == "torch._utils._rebuild_tensor_v2") return rebuildTensor(path, arena, a, at);
  if (fn->text == "torch._utils._rebuild_parameter") {
    if (a.empty() || a[0]->kind != PickleValue::Kind::Tensor)
      pickleFail(path, at, "malformed parameter record");
    return a[0];
  }
  pickleFail(path, at, "refused: '" + fn->text + "' cannot be called here");
}

PicklePtr PickleArena::make(const std::string& path, int kind) {
  if (values_.size() >= kMaxPickleValues) {
    throw FormatError(path, "checkpoint pickle holds more than " +
                                std::to_string(kMaxPickleValues) + " values (limit)");
  }
  values_.emplace_back();
  values_.back().kind = PickleValue::Kind(kind);
  return &values_.back();
}

size_t storageElementSize(const std::string& t) {
  if (t == "DoubleStorage" || t == "LongStorage") return 8;
  if (t == "FloatStorage" || t == "IntStorage") return 4;
  if (t == "HalfStorage" || t == "BFloat16Storage" || t == "ShortStorage") return 2;
  if (t == "CharStorage" || t == "ByteStorage" || t == "BoolStorage") return 1;
  return 0;
}

}  // namespace tlab::core
