#include "core/train/OptimizerState.h"

#include <torch/torch.h>

#include <map>
#include <type_traits>

#include "core/Errors.h"
#include "core/weights/StateDict.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace optim = torch::optim;
namespace {

// The optimiser keys its state by parameter: a string of the TensorImpl address in LibTorch
// 1.13, the address itself in 2.x.
template <typename Map>
typename Map::key_type stateKey(const Map&, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    return c10::guts::to_string(p.unsafeGetTensorImpl());
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

std::string name(size_t group, size_t param, const char* field) {
  return std::to_string(group) + "." + std::to_string(param) + "." + field;
}

enum class Kind { Sgd, Adam, AdamW };

Kind kindOf(const optim::Optimizer& o) {
  if (dynamic_cast<const optim::SGD*>(&o)) return Kind::Sgd;
  if (dynamic_cast<const optim::AdamW*>(&o)) return Kind::AdamW;
  if (dynamic_cast<const optim::Adam*>(&o)) return Kind::Adam;
  throw InvalidArgument("optimiser state: unsupported optimiser type");
}

template <typename State>
void saveAdam(const State& s, size_t g, size_t i, StateDict& out) {
  out.emplace_back(name(g, i, "step"), torch::tensor({int64_t(s.step())}, torch::kLong));
  out.emplace_back(name(g, i, "exp_avg"), s.exp_avg());
  out.emplace_back(name(g, i, "exp_avg_sq"), s.exp_avg_sq());
  if (s.max_exp_avg_sq().defined())
    out.emplace_back(name(g, i, "max_exp_avg_sq"), s.max_exp_avg_sq());
}

}  // namespace

void saveOptimizerState(const optim::Optimizer& o, const fs::path& file) {
  const Kind kind = kindOf(o);
  StateDict out;
  const auto& state = o.state();
  const auto& groups = o.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& params = groups[g].params();
    for (size_t i = 0; i < params.size(); ++i) {
      const auto it = state.find(stateKey(state, params[i]));
      if (it == state.end()) continue;
      if (kind == Kind::Sgd) {
        const auto& s = static_cast<const optim::SGDParamState&>(*it->second);
        if (s.momentum_buffer().defined())
          out.emplace_back(name(g, i, "momentum_buffer"), s.momentum_buffer());
      } else if (kind == Kind::Adam) {
        saveAdam(static_cast<const optim::AdamParamState&>(*it->second), g, i, out);
      } else {
        saveAdam(static_cast<const optim::AdamWParamState&>(*it->second), g, i, out);
      }
    }
  }
  const char* kindName = kind == Kind::Sgd ? "sgd" : kind == Kind::Adam ? "adam" : "adamw";
  writeSafetensors(file, out, {{"format", "transferlab-optimizer-state"}, {"optimizer", kindName}});
}

namespace {

template <typename State>
std::unique_ptr<optim::OptimizerParamState> loadAdam(std::map<std::string, torch::Tensor>& t,
                                                     size_t g, size_t i, const std::string& path) {
  auto take = [&](const char* field) {
    auto it = t.find(name(g, i, field));
    if (it == t.end()) return torch::Tensor();
    auto v = it->second;
    t.erase(it);
    return v;
  };
  const torch::Tensor step = take("step");
  if (!step.defined()) return nullptr;
  if (step.scalar_type() != torch::kLong || step.numel() != 1 || step.item<int64_t>() < 0)
    throw FormatError(path, "tensor '" + name(g, i, "step") + "' is not one non-negative int64");
  auto s = std::make_unique<State>();
  s->step(step.item<int64_t>());
  s->exp_avg(take("exp_avg"));
  s->exp_avg_sq(take("exp_avg_sq"));
  s->max_exp_avg_sq(take("max_exp_avg_sq"));
  if (!s->exp_avg().defined() || !s->exp_avg_sq().defined())
    throw FormatError(path,
                      "parameter " + name(g, i, "") + " has a step but no exp_avg/exp_avg_sq");
  return s;
}

}  // namespace

void loadOptimizerState(optim::Optimizer& o, const fs::path& file, const c10::Device& device) {
  const std::string path = file.string();
  const Kind kind = kindOf(o);
  std::map<std::string, torch::Tensor> tensors;
  for (auto& [k, v] : readSafetensors(file)) tensors[k] = v;
  auto& state = o.state();
  state.clear();
  auto& groups = o.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    auto& params = groups[g].params();
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      std::unique_ptr<optim::OptimizerParamState> s;
      if (kind == Kind::Sgd) {
        auto it = tensors.find(name(g, i, "momentum_buffer"));
        if (it != tensors.end()) {
          auto sgd = std::make_unique<optim::SGDParamState>();
          sgd->momentum_buffer(it->second);
          tensors.erase(it);
          s = std::move(sgd);
        }
      } else if (kind == Kind::Adam) {
        s = loadAdam<optim::AdamParamState>(tensors, g, i, path);
      } else {
        s = loadAdam<optim::AdamWParamState>(tensors, g, i, path);
      }
      if (!s) continue;
      // Every tensor of the state must have its parameter's shape; move it next to it.
      auto fit = [&](torch::Tensor t, const char* field) {
        if (!t.defined()) return t;
        if (t.sizes() != p.sizes())
          throw FormatError(
              path, "tensor '" + name(g, i, field) + "' does not have its parameter's shape");
        return t.to(device, p.scalar_type());
      };
      if (kind == Kind::Sgd) {
        auto& sgd = static_cast<optim::SGDParamState&>(*s);
        sgd.momentum_buffer(fit(sgd.momentum_buffer(), "momentum_buffer"));
      } else if (kind == Kind::AdamW) {  // AdamW's state is its own type, not Adam's
        auto& w = static_cast<optim::AdamWParamState&>(*s);
        w.exp_avg(fit(w.exp_avg(), "exp_avg"));
        w.exp_avg_sq(fit(w.exp_avg_sq(), "exp_avg_sq"));
        w.max_exp_avg_sq(fit(w.max_exp_avg_sq(), "max_exp_avg_sq"));
      } else {
        auto& a = static_cast<optim::AdamParamState&>(*s);
        a.exp_avg(fit(a.exp_avg(), "exp_avg"));
        a.exp_avg_sq(fit(a.exp_avg_sq(), "exp_avg_sq"));
        a.max_exp_avg_sq(fit(a.max_exp_avg_sq(), "max_exp_avg_sq"));
      }
      state[stateKey(state, p)] = std::move(s);
    }
  }
  if (!tensors.empty())
    throw FormatError(
        path, "tensor '" + tensors.begin()->first + "' belongs to no parameter of this optimiser");
}

}  // namespace tlab::core
