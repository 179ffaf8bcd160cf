// Containers of layers.
//
// ModuleList<T> holds modules of type T, named by their index ("blocks.0.weight",
// "blocks.1.weight"), for models that call their children themselves (a stack of transformer
// blocks, LSTM layers); ModuleList<> holds any Module.
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

// ModuleList<T>: modules of type T (or derived from it), each registered under its index.
// ModuleList<> holds any Module. Typed, a list needs no shadow vector of pointers to call its
// children: for (const auto& layer : layers) h = layer(h).
template <class T = Module>
class ModuleList : public Module {
  static_assert(std::is_base_of_v<Module, T>, "ModuleList holds Modules");

 public:
  ModuleList() : Module("ModuleList") {}

  // Constructs an M (T by default) as child number size().
  template <class M = T, class... Args>
  M& emplace_back(Args&&... args) {
    static_assert(std::is_base_of_v<T, M>, "ModuleList<T> holds T and types derived from it");
    auto child = std::make_unique<M>(std::forward<Args>(args)...);
    M& added = register_module(std::to_string(owned_.size()), *child);
    owned_.push_back(std::move(child));
    return added;
  }

  size_t size() const { return owned_.size(); }
  T& operator[](size_t i) const {  // tg::Error when out of range
    check(i < owned_.size(), *this, ": index ", i, " is out of range for ", owned_.size(),
          " modules");
    return *owned_[i];
  }

  // The i-th child as a type derived from T; tg::Error if it is something else.
  template <class M>
  M& at(size_t i) const {
    M* typed = dynamic_cast<M*>(&(*this)[i]);
    check(
        typed != nullptr, *this, ": element ", i, " is a ", [&] { return (*this)[i].type_name(); },
        ", not the type asked for");
    return *typed;
  }

  // Iteration yields T&, in index order.
  class Iterator {
   public:
    using Inner = typename std::vector<std::unique_ptr<T>>::const_iterator;
    explicit Iterator(Inner at) : at_(at) {}
    T& operator*() const { return **at_; }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return at_ == other.at_; }

   private:
    Inner at_;
  };
  Iterator begin() const { return Iterator(owned_.begin()); }
  Iterator end() const { return Iterator(owned_.end()); }

 private:
  std::vector<std::unique_ptr<T>> owned_;  // in index order
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
    check(
        typed != nullptr, *this, ": element ", i, " is a ", [&] { return (*this)[i].type_name(); },
        ", not the type asked for");
    return *typed;
  }

  Tensor forward(const Tensor& x) const override;  // the identity when empty

 private:
  std::vector<std::unique_ptr<UnaryModule>> owned_;  // in call order
};

}  // namespace tg
