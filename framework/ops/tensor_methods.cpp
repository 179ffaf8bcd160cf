// The methods of Tensor that move or compute data (item, to_vector, clone, to, str) and the
// shape sugar (x.reshape(...), x.sum()). tensor.h declares them so that one include gives the
// whole Tensor; they are defined here, above the core, because they call kernels and ops.
#include <iomanip>
#include <sstream>

#include "framework/backend/backend.h"
#include "framework/ops/reduce.h"
#include "framework/ops/shape.h"
#include "framework/tensor.h"

namespace tg {

float Tensor::item() const {
  check(numel() == 1, "item: tensor has ", numel(), " elements ", shape(),
        ", item() needs exactly one");
  if (dtype() == DType::Float32) return to_vector<float>()[0];
  return static_cast<float>(to_vector<int32_t>()[0]);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  constexpr DType wanted = std::is_same_v<T, float> ? DType::Float32 : DType::Int32;
  check(dtype() == wanted, "to_vector: tensor is ", to_string(dtype()), ", asked for ",
        to_string(wanted));
  std::vector<T> values(static_cast<size_t>(numel()));
  if (!values.empty()) backend_of(*this).copy_to_host(*this, values.data());
  return values;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;

Tensor Tensor::clone() const {
  Tensor copy = empty(shape(), dtype(), device());
  if (numel() > 0) backend_of(*this).copy(*this, copy);
  return copy;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor moved = empty(shape(), dtype(), target);
  if (numel() == 0) return moved;
  if (device() == Device::CPU) {
    backend_for(target).copy_from_host(moved, raw_data());
  } else {
    std::vector<char> host(nbytes());
    backend_of(*this).copy_to_host(*this, host.data());
    backend_for(target).copy_from_host(moved, host.data());
  }
  return moved;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  return backend_of(*this).cast(*this, target);
}

// Prints up to 2-D in full (1-D/2-D up to 20 per side), higher ranks as a shape summary.
std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream out;
  out << "Tensor(" << to_string(dtype()) << " " << to_string(shape());
  if (requires_grad()) out << ", requires_grad";
  out << ")";
  if (dim() > 2 || numel() > 400) return out.str();
  const Tensor host = to(Device::CPU).to(DType::Float32);
  const std::vector<float> values = host.to_vector<float>();
  const int64_t cols = dim() == 0 ? 1 : size(-1);
  const int64_t rows = numel() / std::max<int64_t>(cols, 1);
  out << "\n" << std::setprecision(4);
  for (int64_t r = 0; r < rows; ++r) {
    out << (r == 0 ? "[" : " ");
    for (int64_t c = 0; c < cols; ++c)
      out << (c ? ", " : "") << std::setw(8) << values[r * cols + c];
    out << (r + 1 == rows ? "]" : "\n");
  }
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.str(); }

// ---- shape sugar ----

Tensor Tensor::reshape(const Shape& s) const { return tg::reshape(*this, s); }
Tensor Tensor::flatten(int64_t start, int64_t end) const { return tg::flatten(*this, start, end); }
Tensor Tensor::squeeze(int64_t d) const { return tg::squeeze(*this, d); }
Tensor Tensor::unsqueeze(int64_t d) const { return tg::unsqueeze(*this, d); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return tg::transpose(*this, a, b); }
Tensor Tensor::permute(const std::vector<int64_t>& d) const { return tg::permute(*this, d); }
Tensor Tensor::sum() const { return tg::sum(*this); }
Tensor Tensor::mean() const { return tg::mean(*this); }

}  // namespace tg
