#include "core/weights/TorchPickle.h"

#include <cstring>
#include <unordered_map>

#include "core/Errors.h"
#include "core/weights/TorchObjects.h"

namespace tlab::core {
namespace {

constexpr size_t kMaxStack = 1 << 20;
constexpr size_t kMaxMemo = 1 << 20;

class Machine {
 public:
  Machine(const std::string& path, const uint8_t* d, size_t n, size_t& pos, PickleArena& arena)
      : path_(path), d_(d), n_(n), pos_(pos), arena_(arena) {}

  PicklePtr run() {
    for (;;) {
      const size_t at = pos_;
      const uint8_t op = byte();
      if (op == '.') {  // STOP
        if (stack_.size() != 1)
          fail(at, "pickle ends with " + std::to_string(stack_.size()) + " values on the stack");
        return stack_.back();
      }
      if (!framing(op, at) && !scalar(op, at) && !memo(op, at) && !object(op, at) &&
          !container(op, at))
        unsupported(op, at);
    }
  }

 private:
  // Each group below handles its opcodes and returns false for any other.

  // PROTO, FRAME, MARK, empty containers and tuples.
  bool framing(uint8_t op, size_t at) {
    switch (op) {
      case 0x80:
        byte();
        return true;  // PROTO
      case 0x95:
        bytes(8);
        return true;  // FRAME (size hint only)
      case '(':
        marks_.push_back(stack_.size());
        return true;
      case '}':
        push(make(PickleValue::Kind::Dict));
        return true;
      case ']':
        push(make(PickleValue::Kind::List));
        return true;
      case ')':
        push(make(PickleValue::Kind::Tuple));
        return true;
      case 't':
        push(tuple(popMark(at)));
        return true;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t k = op - 0x84;
        if (stack_.size() < k) fail(at, "stack underflow");
        std::vector<PicklePtr> items(stack_.end() - k, stack_.end());
        stack_.resize(stack_.size() - k);
        push(tuple(std::move(items)));
        return true;
      }
      default:
        return false;
    }
  }

  // Integers, strings, None, booleans and floats.
  bool scalar(uint8_t op, size_t at) {
    switch (op) {
      case 'J':
        pushInt(int32_t(le(4)));
        return true;
      case 'K':
        pushInt(byte());
        return true;
      case 'M':
        pushInt(int64_t(le(2)));
        return true;
      case 0x8a:
        long1(at);
        return true;
      case 'X':
      case 'T':
        pushString(le(4));
        return true;
      case 0x8c:
      case 'U':
        pushString(byte());
        return true;
      case 0x8d:
        pushString(le(8));
        return true;
      case 'N':
        push(make(PickleValue::Kind::None));
        return true;
      case 0x88:
      case 0x89: {
        auto v = make(PickleValue::Kind::Bool);
        v->integer = op == 0x88;
        push(v);
        return true;
      }
      case 'G': {
        auto v = make(PickleValue::Kind::Float);
        uint64_t bits = 0;
        for (uint8_t b : bytes(8)) bits = (bits << 8) | b;
        std::memcpy(&v->real, &bits, 8);
        push(v);
        return true;
      }
      default:
        return false;
    }
  }

  // PUT and GET in their three sizes.
  bool memo(uint8_t op, size_t at) {
    switch (op) {
      case 'q':
        memoPut(byte(), at);
        return true;
      case 'r':
        memoPut(le(4), at);
        return true;
      case 0x94:
        memoPut(memo_.size(), at);
        return true;
      case 'h':
        push(memoGet(byte(), at));
        return true;
      case 'j':
        push(memoGet(le(4), at));
        return true;
      default:
        return false;
    }
  }

  // Globals (allow-listed), REDUCE, BUILD and persistent ids: how tensors are rebuilt.
  bool object(uint8_t op, size_t at) {
    switch (op) {
      case 'c': {
        const std::string module = line(at), name = line(at);
        push(global(module + "." + name, at));
        return true;
      }
      case 0x93: {
        auto name = pop(at), module = pop(at);
        if (name->kind != PickleValue::Kind::String || module->kind != PickleValue::Kind::String)
          fail(at, "bad STACK_GLOBAL");
        push(global(module->text + "." + name->text, at));
        return true;
      }
      case 'R': {
        auto args = pop(at), fn = pop(at);
        push(reduce(fn, args, at));
        return true;
      }
      case 'b': {
        auto state = pop(at);
        if (top(at)->kind != PickleValue::Kind::Dict)
          fail(at, "BUILD is only allowed on ordered dicts");
        (void)state;  // OrderedDict attributes (state_dict._metadata): not needed
        return true;
      }
      case 'Q':
        push(persistent(pop(at), at));
        return true;
      default:
        return false;
    }
  }

  // Filling dicts and lists.
  bool container(uint8_t op, size_t at) {
    switch (op) {
      case 's': {
        auto value = pop(at), key = pop(at);
        dictOf(top(at), at).emplace_back(key, value);
        return true;
      }
      case 'u': {
        auto items = popMark(at);
        if (items.size() % 2) fail(at, "SETITEMS with an odd number of values");
        auto& dict = dictOf(top(at), at);
        for (size_t i = 0; i < items.size(); i += 2) dict.emplace_back(items[i], items[i + 1]);
        return true;
      }
      case 'a': {
        auto value = pop(at);
        listOf(top(at), at).push_back(value);
        return true;
      }
      case 'e': {
        auto items = popMark(at);
        auto& list = listOf(top(at), at);
        list.insert(list.end(), items.begin(), items.end());
        return true;
      }
      default:
        return false;
    }
  }

  [[noreturn]] void unsupported(uint8_t op, size_t at) const {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    fail(at, std::string("unsupported pickle opcode ") + hex);
  }

  PicklePtr make(PickleValue::Kind k) { return arena_.make(path_, int(k)); }
  [[noreturn]] void fail(size_t at, const std::string& why) const { pickleFail(path_, at, why); }
  uint8_t byte() {
    if (pos_ >= n_) fail(pos_, "truncated (unexpected end of data)");
    return d_[pos_++];
  }
  std::vector<uint8_t> bytes(uint64_t k) {
    if (k > n_ - pos_) fail(pos_, "truncated (a value runs past the end of the data)");
    std::vector<uint8_t> out(d_ + pos_, d_ + pos_ + k);
    pos_ += k;
    return out;
  }
  uint64_t le(int k) {
    uint64_t v = 0;
    const auto b = bytes(uint64_t(k));
    for (int i = k - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }
  // LONG1: little-endian two's complement. Wider than 64 bits (the legacy checkpoint magic
  // number) keeps its raw bytes in `text` with dtype "bigint".
  void long1(size_t at) {
    const uint8_t k = byte();
    const auto b = bytes(k);
    auto v = make(PickleValue::Kind::Int);
    if (k > 8) {
      v->dtype = "bigint";
      v->text.assign(b.begin(), b.end());
    } else {
      uint64_t x = 0;
      for (int i = int(k) - 1; i >= 0; --i) x = (x << 8) | b[i];
      if (k > 0 && k < 8 && (b[k - 1] & 0x80)) x |= ~uint64_t(0) << (8 * k);  // sign-extend
      v->integer = int64_t(x);
    }
    (void)at;
    push(v);
  }
  std::string line(size_t at) {
    std::string s;
    for (;;) {
      const uint8_t c = byte();
      if (c == '\n') return s;
      if (s.size() > 256) fail(at, "global name too long");
      s.push_back(char(c));
    }
  }
  void push(PicklePtr v) {
    if (stack_.size() >= kMaxStack) fail(pos_, "stack too deep");
    stack_.push_back(std::move(v));
  }
  void pushInt(int64_t i) {
    auto v = make(PickleValue::Kind::Int);
    v->integer = i;
    push(v);
  }
  void pushString(uint64_t len) {
    auto v = make(PickleValue::Kind::String);
    const auto b = bytes(len);
    v->text.assign(b.begin(), b.end());
    push(v);
  }
  PicklePtr pop(size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      fail(at, "stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PicklePtr top(size_t at) {
    if (stack_.empty()) fail(at, "stack underflow");
    return stack_.back();
  }
  std::vector<PicklePtr> popMark(size_t at) {
    if (marks_.empty()) fail(at, "no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    // TUPLE1..3, POP and friends may have taken values from below the mark (found by fuzzing:
    // the range below was then negative).
    if (m > stack_.size()) fail(at, "MARK lies above the top of the stack");
    std::vector<PicklePtr> items(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return items;
  }
  PicklePtr tuple(std::vector<PicklePtr> items) {
    auto v = make(PickleValue::Kind::Tuple);
    v->items = std::move(items);
    return v;
  }
  void memoPut(uint64_t key, size_t at) {
    if (memo_.size() >= kMaxMemo) fail(at, "memo too large");
    memo_[key] = top(at);
  }
  PicklePtr memoGet(uint64_t key, size_t at) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail(at, "reference to an unknown memo entry " + std::to_string(key));
    return it->second;
  }
  std::vector<std::pair<PicklePtr, PicklePtr>>& dictOf(const PicklePtr& v, size_t at) {
    if (v->kind != PickleValue::Kind::Dict) fail(at, "SETITEM on something that is not a dict");
    return v->entries;
  }
  std::vector<PicklePtr>& listOf(const PicklePtr& v, size_t at) {
    if (v->kind != PickleValue::Kind::List) fail(at, "APPEND on something that is not a list");
    return v->items;
  }
  PicklePtr global(const std::string& name, size_t at) {
    return torchGlobal(path_, arena_, name, at);
  }
  PicklePtr persistent(const PicklePtr& pid, size_t at) {
    return torchPersistent(path_, arena_, pid, at);
  }
  PicklePtr reduce(const PicklePtr& fn, const PicklePtr& args, size_t at) {
    return torchReduce(path_, arena_, fn, args, at);
  }

  const std::string& path_;
  const uint8_t* d_;
  size_t n_;
  size_t& pos_;
  std::vector<PicklePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PicklePtr> memo_;
  PickleArena& arena_;
};

}  // namespace

PicklePtr unpickle(const std::string& path, const uint8_t* data, size_t size, size_t& pos,
                   PickleArena& arena) {
  Machine m(path, data, size, pos, arena);
  return m.run();
}

}  // namespace tlab::core
