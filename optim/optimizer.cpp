#include "optim/optimizer.h"

#include <cmath>
#include <set>

#include "framework/tape.h"

namespace tg {

ParamGroups::ParamGroups(std::vector<Tensor> params) {
  groups.push_back(ParamGroup{std::move(params), {}, {}, {}});
}

ParamGroups::ParamGroups(const NamedTensors& named_params) {
  ParamGroup group;
  for (const auto& [name, tensor] : named_params) {
    group.names.push_back(name);
    group.params.push_back(tensor);
  }
  groups.push_back(std::move(group));
}

std::vector<ParamGroup> param_groups_no_decay(const NamedTensors& named_params,
                                              double weight_decay) {
  ParamGroup decay, no_decay;
  decay.weight_decay = weight_decay;
  no_decay.weight_decay = 0.0;
  for (const auto& [name, tensor] : named_params) {
    // Decay shrinks weights toward 0; for a bias or a LayerNorm gain that only fights the
    // normalisation and the offset the layer needs, so they are left free.
    const bool exempt = name.ends_with("bias") || tensor.dim() <= 1;
    ParamGroup& group = exempt ? no_decay : decay;
    group.params.push_back(tensor);
    group.names.push_back(name);
  }
  return {std::move(decay), std::move(no_decay)};
}

void check_option(bool ok, const std::string& optimizer, const char* option, const char* rule,
                  double value) {
  check(ok, optimizer, ": ", option, " must be ", rule, ", got ", value);
}

Optimizer::Optimizer(std::string name, ParamGroups groups, double default_lr,
                     double default_weight_decay, std::vector<std::string> buffer_names)
    : name_(std::move(name)),
      groups_(std::move(groups.groups)),
      buffer_names_(std::move(buffer_names)) {
  check(!groups_.empty(), name_, ": no parameter groups given");
  std::set<const TensorImpl*> seen;
  for (size_t g = 0; g < groups_.size(); ++g) {
    ParamGroup& group = groups_[g];
    if (!group.lr) group.lr = default_lr;
    if (!group.weight_decay) group.weight_decay = default_weight_decay;
    check_option(std::isfinite(*group.lr) && *group.lr >= 0, name_, "lr", ">= 0", *group.lr);
    check_option(std::isfinite(*group.weight_decay) && *group.weight_decay >= 0, name_,
                 "weight_decay", ">= 0", *group.weight_decay);
    check(group.names.empty() || group.names.size() == group.params.size(), name_, ": group ", g,
          " has ", group.params.size(), " parameters but ", group.names.size(), " names");
    for (size_t i = 0; i < group.params.size(); ++i) {
      const Tensor& param = group.params[i];
      check(
          param.defined(), [&] { return describe(g, i); }, " is undefined");
      check(
          param.dtype() == DType::Float32, [&] { return describe(g, i); }, " is ",
          to_string(param.dtype()), "; only float32 tensors can be optimized");
      check(
          param.is_leaf(), [&] { return describe(g, i); },
          " was produced by an op; only leaf tensors can be optimized");
      check(
          seen.insert(param.impl().get()).second, [&] { return describe(g, i); },
          " appears more than once across the parameter groups");
    }
    states_.emplace_back(group.params.size());
  }
}

std::string Optimizer::describe(size_t group, size_t index) const {
  const ParamGroup& g = groups_[group];
  if (!g.names.empty()) return name_ + ": parameter '" + g.names[index] + "'";
  return name_ + ": group " + std::to_string(group) + " parameter " + std::to_string(index);
}

void Optimizer::step() {
  NoGradGuard no_grad;  // an update is not part of any model's computation
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const Tensor& param = groups_[g].params[i];
      const Tensor grad = param.grad();
      if (!grad.defined()) continue;
      check(
          grad.device() == param.device(), [&] { return describe(g, i); }, ": gradient is on ",
          to_string(grad.device()), ", the parameter on ", to_string(param.device()));
      check(
          grad.shape() == param.shape() && grad.dtype() == DType::Float32,
          [&] { return describe(g, i); }, ": gradient is ", to_string(grad.dtype()), " ",
          grad.shape(), ", the parameter is float32 ", param.shape());
      ParamState& state = states_[g][i];
      ++state.step;
      update(groups_[g], param, grad, state);
    }
  }
}

void Optimizer::zero_grad() {
  for (const ParamGroup& group : groups_)
    for (const Tensor& param : group.params) param.zero_grad();
}

double Optimizer::lr(size_t group) const {
  check(group < groups_.size(), name_, ": no group ", group, " (", groups_.size(), " groups)");
  return *groups_[group].lr;
}

void Optimizer::set_lr(double lr) {
  for (size_t g = 0; g < groups_.size(); ++g) set_lr(g, lr);
}

void Optimizer::set_lr(size_t group, double lr) {
  check(group < groups_.size(), name_, ": no group ", group, " (", groups_.size(), " groups)");
  check_option(std::isfinite(lr) && lr >= 0, name_, "lr", ">= 0", lr);
  groups_[group].lr = lr;
}

double Optimizer::weight_decay(size_t group) const {
  check(group < groups_.size(), name_, ": no group ", group, " (", groups_.size(), " groups)");
  return *groups_[group].weight_decay;
}

int64_t Optimizer::step_count(size_t group, size_t index) const {
  check(group < states_.size() && index < states_[group].size(), name_, ": no parameter ", index,
        " in group ", group);
  return states_[group][index].step;
}

Tensor Optimizer::buffer(ParamState& state, size_t slot, const Tensor& param) const {
  if (state.buffers.size() <= slot) state.buffers.resize(buffer_names_.size());
  Tensor& buffer = state.buffers[slot];
  if (!buffer.defined()) buffer = zeros(param.shape(), DType::Float32, param.device());
  return buffer;
}

// ---- state ----

namespace {

std::string param_key(size_t group, size_t index) {
  return "group" + std::to_string(group) + ".param" + std::to_string(index) + ".";
}
std::string group_key(size_t group) { return "group" + std::to_string(group) + "."; }

}  // namespace

Checkpoint Optimizer::state() const {
  Checkpoint out;
  out.set_string("type", name_);
  out.set_int("group_count", static_cast<int64_t>(groups_.size()));
  for (size_t g = 0; g < groups_.size(); ++g) {
    out.set_int(group_key(g) + "size", static_cast<int64_t>(groups_[g].params.size()));
    out.set_double(group_key(g) + "lr", *groups_[g].lr);
    out.set_double(group_key(g) + "weight_decay", *groups_[g].weight_decay);
    for (size_t i = 0; i < states_[g].size(); ++i) {
      const ParamState& state = states_[g][i];
      if (state.step == 0) continue;  // never updated: nothing to save
      out.set_int(param_key(g, i) + "step", state.step);
      for (size_t slot = 0; slot < state.buffers.size(); ++slot)
        if (state.buffers[slot].defined())
          out.add_tensor(param_key(g, i) + buffer_names_[slot], state.buffers[slot]);
    }
  }
  save_options(out);
  return out;
}

struct Optimizer::LoadedState {
  std::vector<double> lrs, weight_decays;
  std::vector<std::vector<ParamState>> states;
};

Optimizer::LoadedState Optimizer::parse_state(const Checkpoint& in) const {
  const std::string where = name_ + ": load_state from " + in.source();
  const std::string& type = in.get_string("type");
  check(type == name_, where, ": the state is for ", type, ", this optimizer is ", name_);
  const int64_t group_count = in.get_int("group_count");
  check(group_count == static_cast<int64_t>(groups_.size()), where, ": the state has ", group_count,
        " parameter groups, this optimizer has ", groups_.size());
  LoadedState loaded;
  std::set<std::string> used;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const int64_t size = in.get_int(group_key(g) + "size");
    check(size == static_cast<int64_t>(groups_[g].params.size()), where, ": group ", g, " has ",
          size, " parameters in the state, ", groups_[g].params.size(), " here");
    loaded.lrs.push_back(in.get_double(group_key(g) + "lr"));
    loaded.weight_decays.push_back(in.get_double(group_key(g) + "weight_decay"));
    check_option(std::isfinite(loaded.lrs.back()) && loaded.lrs.back() >= 0, where, "lr", ">= 0",
                 loaded.lrs.back());
    check_option(std::isfinite(loaded.weight_decays.back()) && loaded.weight_decays.back() >= 0,
                 where, "weight_decay", ">= 0", loaded.weight_decays.back());
    std::vector<ParamState>& states = loaded.states.emplace_back(groups_[g].params.size());
    for (size_t i = 0; i < states.size(); ++i) {
      const std::string key = param_key(g, i);
      if (!in.has(key + "step")) continue;
      states[i].step = in.get_int(key + "step");
      check(states[i].step >= 0, where, ": ", key, "step is negative");
      const Tensor& param = groups_[g].params[i];
      states[i].buffers.resize(buffer_names_.size());
      for (size_t slot = 0; slot < buffer_names_.size(); ++slot) {
        if (!in.has_tensor(key + buffer_names_[slot])) continue;
        const Tensor& saved = in.tensor(key + buffer_names_[slot]);
        check(
            saved.dtype() == DType::Float32 && saved.shape() == param.shape(), where, ": '", key,
            buffer_names_[slot], "' is ", to_string(saved.dtype()), " ", saved.shape(), ", ",
            [&] { return describe(g, i); }, " is float32 ", param.shape());
        used.insert(key + buffer_names_[slot]);
        states[i].buffers[slot] = saved.to(param.device()).clone();
      }
    }
  }
  for (const auto& [name, tensor] : in.tensors())
    check(used.count(name) != 0, where, ": unexpected state tensor '", name, "'");
  return loaded;
}

void Optimizer::check_state(const Checkpoint& in) const {
  parse_state(in);
  check_options(in);
}

void Optimizer::load_state(const Checkpoint& in) {
  LoadedState loaded = parse_state(in);
  check_options(in);
  // Nothing below throws: the state is adopted whole or not at all.
  load_options(in);
  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].lr = loaded.lrs[g];
    groups_[g].weight_decay = loaded.weight_decays[g];
  }
  states_ = std::move(loaded.states);
}

}  // namespace tg
