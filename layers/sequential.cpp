#include "layers/sequential.h"

namespace tg {

Module& ModuleList::operator[](size_t i) const {
  expect(i < owned_.size(), "index ", i, " is out of range for ", owned_.size(), " modules");
  return *owned_[i];
}

UnaryModule& Sequential::operator[](size_t i) const {
  expect(i < owned_.size(), "index ", i, " is out of range for ", owned_.size(), " modules");
  return *owned_[i];
}

Tensor Sequential::forward(const Tensor& x) const {
  Tensor y = x;
  for (const auto& child : owned_) y = (*child)(y);
  return y;
}

}  // namespace tg
