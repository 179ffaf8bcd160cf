// Containers of layers.
//
// ModuleList holds any modules, named by their index ("blocks.0.weight", "blocks.1.weight"),
// for models that call their children themselves (a stack of transformer blocks, LSTM layers).
// Sequential holds UnaryModules and chains them: forward(x) = m_n(...m_1(m_0(x))).
//
//   Sequential mlp;
//   mlp.add<Linear>(784, 128);
//   mlp.add<ReLU>();
//   mlp.add<Linear>(128, 10);
//   Tensor logits = mlp(images);   // parameters "0.weight", "0.bias", "2.weight", ...
//
// Children live in std::unique_ptr (a Module cannot move), so references returned by
// emplace_back/add/at stay valid as the container grows.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "layers/module_unary.h"

namespace tg {

struct ModuleList : Module {
  ModuleList() : Module("ModuleList") {}

  template <class M, class... Args>
  M& emplace_back(Args&&... args) {
    static_assert(std::is_base_of_v<Module, M>, "ModuleList holds Modules");
    auto child = std::make_unique<M>(std::forward<Args>(args)...);
    M& added = register_module(std::to_string(owned_.size()), *child);
    owned_.push_back(std::move(child));
    return added;
  }

  size_t size() const { return owned_.size(); }
  Module& operator[](size_t i) const;  // tg::Error when out of range

  // The i-th child as its concrete type; tg::Error if it is something else.
  template <class M>
  M& at(size_t i) const {
    M* typed = dynamic_cast<M*>(&(*this)[i]);
    expect(typed != nullptr, "element ", i, " is a ", (*this)[i].type_name(),
           ", not the type asked for");
    return *typed;
  }

 private:
  std::vector<std::unique_ptr<Module>> owned_;  // in index order
};

struct Sequential : UnaryModule {
  Sequential() : UnaryModule("Sequential") {}

  template <class M, class... Args>
  M& add(Args&&... args) {
    static_assert(std::is_base_of_v<UnaryModule, M>,
                  "Sequential chains UnaryModules (one tensor in, one tensor out)");
    auto child = std::make_unique<M>(std::forward<Args>(args)...);
    M& added = register_module(std::to_string(owned_.size()), *child);
    owned_.push_back(std::move(child));
    return added;
  }

  size_t size() const { return owned_.size(); }
  UnaryModule& operator[](size_t i) const;

  template <class M>
  M& at(size_t i) const {
    M* typed = dynamic_cast<M*>(&(*this)[i]);
    expect(typed != nullptr, "element ", i, " is a ", (*this)[i].type_name(),
           ", not the type asked for");
    return *typed;
  }

  Tensor forward(const Tensor& x) const override;  // the identity when empty

 private:
  std::vector<std::unique_ptr<UnaryModule>> owned_;  // in call order
};

}  // namespace tg
