// Optimizer: updates parameters from their gradients, group by group.
//
// Parameters come in groups, each with its own learning rate and weight decay, so that biases
// and LayerNorm weights can be excluded from decay (param_groups_no_decay below). A group that
// leaves lr or weight_decay unset takes the optimizer's option.
//
//   Adam opt(param_groups_no_decay(model.named_parameters(), 0.01), {.lr = 3e-4});
//   for (...) { opt.zero_grad(); loss(model).backward(); opt.step(); }
//
// step() runs with recording off and updates each parameter in place with one fused kernel of
// its device's backend (parameter, gradient and state buffers read and written once), so a step
// allocates nothing once the state exists. The state lives on the device of its parameter.
// Parameters whose gradient is undefined are skipped (and their step count does not advance).
//
// State (step counts, moment buffers, per-group hyper-parameters and options) round-trips
// through state()/load_state(), named "group0.param3.exp_avg", "group0.lr", ...
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "framework/checkpoint.h"
#include "framework/tensor.h"

namespace tg {

struct ParamGroup {
  std::vector<Tensor> params = {};
  std::optional<double> lr = {};            // unset: the optimizer's lr
  std::optional<double> weight_decay = {};  // unset: the optimizer's weight_decay
  std::vector<std::string> names = {};      // optional, one per parameter: for error messages
};

// A group per element, or one group from a parameter list: what every optimizer takes.
struct ParamGroups {
  std::vector<ParamGroup> groups;
  ParamGroups(std::vector<ParamGroup> list) : groups(std::move(list)) {}
  ParamGroups(std::initializer_list<ParamGroup> list) : groups(list) {}
  ParamGroups(std::vector<Tensor> params);
  ParamGroups(std::initializer_list<Tensor> params) : ParamGroups(std::vector<Tensor>(params)) {}
  ParamGroups(const NamedTensors& named_params);
};

// Two groups from named parameters (a Module's named_parameters()): the ones that decay with
// weight_decay, and the ones that should not (names ending in "bias", and every 1-D tensor:
// LayerNorm weights) with 0.
std::vector<ParamGroup> param_groups_no_decay(const NamedTensors& named_params,
                                              double weight_decay);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  void step();
  void zero_grad();  // drops every parameter's gradient

  const std::string& name() const { return name_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  double lr(size_t group = 0) const;
  void set_lr(double lr);  // every group
  void set_lr(size_t group, double lr);
  double weight_decay(size_t group = 0) const;
  // How many updates parameter index of group has received (0 before the first).
  int64_t step_count(size_t group = 0, size_t index = 0) const;

  // Everything step() depends on besides the parameters themselves.
  Checkpoint state() const;
  // Restores state() output. Checks all of it first (optimizer type, group and parameter counts,
  // buffer names and shapes, options): on error nothing has changed.
  void load_state(const Checkpoint& state);
  // The checks of load_state without the loading.
  void check_state(const Checkpoint& state) const;

 protected:
  struct ParamState {
    int64_t step = 0;
    std::vector<Tensor> buffers;  // by slot (see buffer_names()); undefined until first needed
  };

  Optimizer(std::string name, ParamGroups groups, double default_lr, double default_weight_decay,
            std::vector<std::string> buffer_names);

  // One parameter's update; state.step already counts this update. It runs as one backend
  // kernel (sgd_step, adam_step...) on the device of the parameter and its state.
  virtual void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                      ParamState& state) = 0;
  // The optimizer's own options (betas, momentum...) to and from the state. check_options
  // throws what load_options would; load_options runs only after it passed.
  virtual void save_options(Checkpoint& out) const = 0;
  virtual void check_options(const Checkpoint& in) const = 0;
  virtual void load_options(const Checkpoint& in) = 0;

  // The buffer in slot, created as zeros shaped like param (on its device) on first use.
  Tensor buffer(ParamState& state, size_t slot, const Tensor& param) const;
  // "Adam: parameter 'fc.weight'" or "Adam: group 1 parameter 3", for messages.
  std::string describe(size_t group, size_t index) const;

 private:
  struct LoadedState;
  LoadedState parse_state(const Checkpoint& state) const;

  std::string name_;
  std::vector<ParamGroup> groups_;  // lr and weight_decay always set after construction
  std::vector<std::vector<ParamState>> states_;
  std::vector<std::string> buffer_names_;
};

// Fails with "<optimizer>: <option> must be <rule>, got <value>" when !ok.
void check_option(bool ok, const std::string& optimizer, const char* option, const char* rule,
                  double value);

}  // namespace tg
