#include "framework/tensor.h"

#include <atomic>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "framework/backend/backend.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/reduce.h"
#include "framework/ops/shape.h"
#include "framework/random.h"
#include "framework/tape.h"

namespace tg {

const char* to_string(DType dtype) { return dtype == DType::Float32 ? "float32" : "int32"; }

std::string to_string(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::ostream& operator<<(std::ostream& out, const std::vector<int64_t>& shape) {
  return out << to_string(shape);
}

// Every size computed from a shape (the element count, each stride, the byte count) is at most
// the product of its nonzero dimensions; refusing shapes where that product passes
// kMaxElements keeps them all far inside int64 and size_t. A zero dimension does not excuse
// the others: [0, 2^40, 2^40] would still overflow its strides.
int64_t numel_of(const Shape& shape, const char* op) {
  int64_t nonzero_product = 1;
  bool has_zero = false;
  for (int64_t d : shape) {
    if (d == 0) {
      has_zero = true;
      continue;
    }
    const bool overflows = __builtin_mul_overflow(nonzero_product, d, &nonzero_product);
    if (overflows || nonzero_product > kMaxElements || nonzero_product < -kMaxElements)
      fail(op, ": shape ", shape,
           " has more than 2^60 elements (its sizes, strides and byte "
           "counts would overflow)");
  }
  return has_zero ? 0 : nonzero_product;
}

size_t dtype_size(DType) { return 4; }  // float32 and int32

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1;
    const int64_t db = k < b.size() ? b[b.size() - 1 - k] : 1;
    check(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
          " cannot be broadcast together");
    out[out.size() - 1 - k] = da == 1 ? db : da;
  }
  return out;
}

static uint64_t next_tensor_id() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

// ---- accessors ----

void Tensor::fail_undefined() { fail("tensor: use of an undefined tensor"); }

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }
int64_t Tensor::numel() const { return numel_of(shape()); }

void* Tensor::raw_data() const {
  const TensorImpl& impl = checked();
  return static_cast<char*>(impl.storage->data()) + impl.offset * dtype_size(impl.dtype);
}

template <class T>
T* Tensor::data() const {
  constexpr DType wanted = std::is_same_v<T, float> ? DType::Float32 : DType::Int32;
  check(dtype() == wanted, "tensor data: tensor is ", to_string(dtype()), ", asked for ",
        to_string(wanted));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template int32_t* Tensor::data<int32_t>() const;

// ---- autograd ----

bool Tensor::requires_grad() const { return defined() && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool flag) {
  check(!flag || dtype() == DType::Float32,
        "set_requires_grad: only float32 tensors can require gradients, this one is ",
        to_string(dtype()));
  check(is_leaf(), "set_requires_grad: only leaf tensors (not produced by an op) can change it");
  impl_->requires_grad = flag;
  return *this;
}

bool Tensor::is_leaf() const { return checked().tape_generation == 0; }
Tensor Tensor::grad() const { return Tensor(checked().grad); }
void Tensor::set_grad(const Tensor& grad) const { impl_->grad = grad.impl(); }
void Tensor::zero_grad() const { impl_->grad.reset(); }

void Tensor::backward() const {
  check(numel() == 1, "backward: called on a tensor of shape ", shape(),
        "; only a one-element tensor (a loss) can start backward without a seed gradient");
  backward(ones(shape(), DType::Float32, device()));
}

void Tensor::backward(const Tensor& seed) const {
  check(requires_grad(),
        "backward: this tensor does not require grad (no input of the ops "
        "that made it requires grad, or it was made under NoGradGuard)");
  check(seed.shape() == shape(), "backward: seed gradient has shape ", seed.shape(),
        ", the tensor has shape ", shape());
  if (is_leaf()) {  // nothing to walk: the seed is the gradient
    impl_->grad = impl_->grad ? (Tensor(impl_->grad) + seed).impl() : seed.clone().impl();
    return;
  }
  check(impl_->tape_generation == tape().generation(),
        "backward: the tape that recorded this tensor was already consumed by an earlier "
        "backward(); compute the forward again before calling backward a second time");
  tape().backward(*this, seed);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>(checked());
  impl->requires_grad = false;
  impl->tape_generation = 0;
  impl->grad.reset();
  impl->id = next_tensor_id();
  return Tensor(impl);
}

// ---- values ----

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

// ---- creation ----

Tensor empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) check(d >= 0, "empty: negative dimension in shape ", shape);
  auto impl = std::make_shared<TensorImpl>();
  const auto bytes = static_cast<size_t>(numel_of(shape, "empty")) * dtype_size(dtype);
  impl->storage = std::make_shared<Storage>(bytes, device);
  impl->shape = shape;
  impl->dtype = dtype;
  impl->id = next_tensor_id();
  return Tensor(impl);
}

// A new handle on the same storage with another shape: what every view is.
Tensor make_view(const Tensor& base, const Shape& shape, int64_t extra_offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->offset = base.storage_offset() + extra_offset;
  impl->shape = shape;
  impl->dtype = base.dtype();
  impl->id = next_tensor_id();
  return Tensor(impl);
}

Tensor full(const Shape& shape, float value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (t.numel() > 0) backend_for(device).fill(t, value);
  return t;
}
Tensor zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0, dtype, device);
}
Tensor ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1, dtype, device);
}
Tensor scalar(float value, Device device) { return full({}, value, DType::Float32, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }

Tensor arange(int64_t n, DType dtype, Device device) {
  check(n >= 0, "arange: n must be >= 0, got ", n);
  Tensor t = empty({n}, dtype, device);
  if (n > 0) backend_for(device).arange(t, 0, 1);
  return t;
}

Tensor arange(float start, float end, float step, DType dtype, Device device) {
  check(step != 0, "arange: step must not be 0");
  const double count = std::ceil((static_cast<double>(end) - start) / step);
  Tensor t = empty({std::max<int64_t>(0, static_cast<int64_t>(count))}, dtype, device);
  if (t.numel() > 0) backend_for(device).arange(t, start, step);
  return t;
}

template <class T>
static Tensor tensor_from(const std::vector<T>& values, const Shape& shape, DType dtype,
                          Device device) {
  check(static_cast<int64_t>(values.size()) == numel_of(shape), "from_vector: ", values.size(),
        " values do not fill shape ", shape, " (", numel_of(shape), " elements)");
  Tensor t = empty(shape, dtype, device);
  if (!values.empty()) backend_for(device).copy_from_host(t, values.data());
  return t;
}
Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  return tensor_from(values, shape, DType::Float32, device);
}
Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape, Device device) {
  return tensor_from(values, shape, DType::Int32, device);
}
Tensor from_vector(std::initializer_list<float> values, const Shape& shape, Device device) {
  return tensor_from(std::vector<float>(values), shape, DType::Float32, device);
}

static Tensor random_tensor(const Shape& shape, RandomKind kind, float a, float b, Generator& gen,
                            Device device) {
  Tensor t = empty(shape, DType::Float32, device);
  const uint64_t offset = gen.advance(static_cast<uint64_t>(t.numel()));
  if (t.numel() > 0) backend_for(device).random(t, kind, a, b, gen.seed(), offset);
  return t;
}
Tensor randn(const Shape& shape, Generator& gen, float mean, float stddev, Device device) {
  return random_tensor(shape, RandomKind::Normal, mean, stddev, gen, device);
}
Tensor uniform(const Shape& shape, float low, float high, Generator& gen, Device device) {
  check(low <= high, "uniform: low (", low, ") must not exceed high (", high, ")");
  return random_tensor(shape, RandomKind::Uniform, low, high, gen, device);
}
Tensor bernoulli(const Shape& shape, float p, Generator& gen, Device device) {
  check(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1], got ", p);
  return random_tensor(shape, RandomKind::Bernoulli, p, 0, gen, device);
}

}  // namespace tg
