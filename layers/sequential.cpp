#include "layers/sequential.h"

namespace tg {

UnaryModule& Sequential::operator[](size_t i) const {
  check(i < owned_.size(), *this, ": index ", i, " is out of range for ", owned_.size(),
        " modules");
  return *owned_[i];
}

Tensor Sequential::forward(const Tensor& x) const {
  Tensor y = x;
  for (const auto& child : owned_) y = (*child)(y);
  return y;
}

}  // namespace tg
