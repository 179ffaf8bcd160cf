// Module: the base of every layer. It names what it owns.
//
// A layer registers its parameters, buffers and child layers by name in its constructor:
//
//   struct FeedForward : Module {
//     Linear up, down;
//     FeedForward(int d, int hidden) : up(d, hidden), down(hidden, d) {
//       register_module("up", up);
//       register_module("down", down);
//     }
//     Tensor forward(const Tensor& x) { return down(gelu(up(x))); }
//   };
//
// From those names come the stable dotted paths (encoder.layers.0.self_attn.w_q.weight) that
// checkpoints, optimizers' parameter groups, summaries and error messages use. Children are
// registered by reference, so a Module is neither copyable nor movable: hold it by value as a
// member, or in a std::unique_ptr.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "framework/checkpoint.h"
#include "framework/error.h"
#include "framework/tensor.h"

namespace tg {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Parameters (requires_grad), in registration order, children after their parent's own.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;  // state that is saved but not trained
  // Buffers computed from the constructor's arguments (the sinusoid table of
  // PositionalEncoding): moved by to() and read like any buffer, but left out of state_dict and
  // checkpoints, which would only grow by them (PyTorch's persistent=False). A checkpoint that
  // has them (written before they were computed ones) still loads, and loads them too.
  NamedTensors named_computed_buffers() const;
  std::vector<std::pair<std::string, const Module*>> named_children() const;
  std::vector<std::pair<std::string, Module*>> named_children();  // to change them (pruning)

  // PyTorch's state_dict: every parameter and buffer by dotted name, module by module (a
  // module's own parameters, then its own buffers, then each child's, in registration order).
  // The tensors are detached handles to the live storage, as in PyTorch: they follow the
  // training. Take a snapshot with clone(), or on disk with model_checkpoint (optim/checkpoint.h).
  NamedTensors state_dict() const;
  // Copies each tensor of state into the parameter or buffer of the same name, in place (every
  // handle to it, an optimizer's included, sees the new values), from any device to this
  // module's. Everything is checked before anything is copied: a shape or dtype mismatch is a
  // tg::Error naming each mismatched key; with strict, so is a missing or unexpected key (the
  // message lists them); without, those are returned in the report and the rest is loaded.
  LoadReport load_state_dict(const NamedTensors& state, bool strict = true);
  int64_t parameter_count() const;

  void train(bool on = true);  // propagates to every child
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  void to(Device device);  // moves parameters and buffers in place (handles stay valid)
  // Where the parameters are (to() moves them together); CPU for a module without any.
  Device device() const;

  // A table of every parameter: name, shape, count; and the total.
  std::string summary() const;

  const std::string& type_name() const { return type_name_; }
  // Where this module sits: "decoder.layers.1.cross_attn", or its type name at the root.
  std::string path() const;

 protected:
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  Tensor register_computed_buffer(const std::string& name, Tensor value);  // not saved
  // Forgets a parameter (a layer that replaces it, as Linear::quantize_int8 does).
  void remove_parameter(const std::string& name);
  template <class Child>
  Child& register_module(const std::string& name, Child& child) {
    add_child(name, child);
    return child;
  }

  std::string describe() const;  // "Linear 'encoder.proj'"
  // Prints describe(), so that a layer's checks name it, formatted only when one fails:
  //   check(ok, *this, ": expected input [..., ", in, "], got ", x.shape())
  //   -> "Linear 'encoder.proj': expected input [..., 64], got [32,10]"
  friend std::ostream& operator<<(std::ostream& out, const Module& module);

 private:
  void add_child(const std::string& name, Module& child);
  Tensor add_buffer(NamedTensors Module::*list, const std::string& name, Tensor value);
  void collect(const std::string& prefix, NamedTensors Module::*list, NamedTensors& out) const;
  void collect_state(const std::string& prefix, NamedTensors& out) const;
  void check_new_name(const std::string& name) const;

  std::string type_name_;
  std::string name_;  // as registered in the parent
  const Module* parent_ = nullptr;
  bool training_ = true;
  NamedTensors parameters_, buffers_, computed_buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
};

}  // namespace tg
