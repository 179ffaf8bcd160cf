// Tensor: a cheap handle to a block of numbers with a shape.
//
// A Tensor is a shared_ptr to a TensorImpl, which holds the storage (a reference-counted
// buffer), the element offset into it, the shape, the dtype and the autograd flags. Copying a
// Tensor copies the handle, not the data. Data is always row-major and contiguous, so a view
// (reshape, unsqueeze, narrow along dim 0) is just another TensorImpl over the same storage.
//
// tensor.h declares the whole Tensor API, so one include gives it; tensor.cpp defines only the
// handle (accessors, autograd flags, empty, make_view). What computes or moves data is defined
// above the core: the methods in ops/tensor_methods.cpp, the creation functions in
// ops/creation.cpp, backward() in tape.cpp (README, "The arrows point one way").
//
// Two dtypes: Float32, the one differentiable dtype, and Int32 for token ids, labels, lengths
// and masks (comparisons return Int32 0/1). Int32 tensors never carry gradients.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "framework/error.h"
#include "framework/shape.h"
#include "framework/storage.h"

namespace tg {

enum class DType { Float32, Int32 };

const char* to_string(DType dtype);
// Prints to_string(dtype): a check takes the dtype itself and formats it only on failure.
std::ostream& operator<<(std::ostream& out, DType dtype);
size_t dtype_size(DType dtype);

class Generator;
class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::Float32;
  bool requires_grad = false;
  uint64_t id = 0;               // unique per TensorImpl
  uint64_t tape_generation = 0;  // nonzero: produced by a recorded op in that tape generation
  size_t tape_slot = 0;          // and then: where backward keeps its gradient (Tape::Output)
  std::shared_ptr<TensorImpl> grad;
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (e.g. "no gradient")
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  // The accessors are inline: every op calls them several times.
  const Shape& shape() const { return checked().shape; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  // A plain product: the shape was checked against overflow when the tensor was made (numel_of
  // in empty(); a view never holds more elements than its base), and ops call this often.
  int64_t numel() const {
    int64_t count = 1;
    for (int64_t d : shape()) count *= d;
    return count;
  }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device(); }
  uint64_t id() const { return checked().id; }

  // The elements, in host memory: CPU tensors only (a CUDA tensor's elements live on the GPU;
  // bring them over with .to(Device::CPU) or to_vector first). Checks the device and the dtype.
  template <class T>
  T* data() const;
  // The elements where the tensor's device keeps them (for a CUDA tensor, a device pointer that
  // host code must not read): for backends' kernels. Checks the dtype.
  template <class T>
  T* device_data() const;
  void* raw_data() const;
  const std::shared_ptr<Storage>& storage() const { return checked().storage; }
  int64_t storage_offset() const { return checked().offset; }

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool flag = true);  // leaves only, Float32 only
  bool is_leaf() const;                         // not produced by a recorded op
  Tensor grad() const;                          // undefined until a backward reaches it
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops the gradient (it reads as undefined, i.e. zero)
  // Runs the tape backward from this tensor. Without a seed the tensor must hold one element.
  void backward() const;
  void backward(const Tensor& seed) const;
  Tensor detach() const;  // same storage, cut from the tape

  // ---- values ----
  float item() const;  // one element, as float
  template <class T>
  std::vector<T> to_vector() const;
  Tensor clone() const;  // a fresh copy of the data, not recorded on the tape
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;  // cast, not differentiable
  std::string str() const;       // readable printout of a small tensor

  // ---- shape sugar: same as the free functions in ops/shape.h ----
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const { return reshape(shape); }
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor sum() const;
  Tensor mean() const;

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

 private:
  const TensorImpl& checked() const {
    if (impl_ == nullptr) fail_undefined();
    return *impl_;
  }
  [[noreturn]] static void fail_undefined();
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& out, const Tensor& t);

// ---- creation ----
Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor full(const Shape& shape, float value, DType dtype = DType::Float32,
            Device device = Device::CPU);
Tensor scalar(float value, Device device = Device::CPU);  // a 0-dim Float32 tensor
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
// 0, 1, ..., n-1 (or start, start+step, ... below end)
Tensor arange(int64_t n, DType dtype = DType::Int32, Device device = Device::CPU);
Tensor arange(float start, float end, float step, DType dtype = DType::Float32,
              Device device = Device::CPU);
Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                   Device device = Device::CPU);
Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape,
                   Device device = Device::CPU);
// A braced list of numbers is float32: from_vector({1, 2, 3}, {3}). For int32 ids write
// from_vector(std::vector<int32_t>{...}, shape).
Tensor from_vector(std::initializer_list<float> values, const Shape& shape,
                   Device device = Device::CPU);
// Random tensors from an explicit generator: the same seed gives the same numbers.
Tensor randn(const Shape& shape, Generator& gen, float mean = 0.0f, float stddev = 1.0f,
             Device device = Device::CPU);
Tensor uniform(const Shape& shape, float low, float high, Generator& gen,
               Device device = Device::CPU);
// Bernoulli: `value` (default 1) with probability p, else 0; dropout draws its kept elements'
// scale 1 / (1 - p) this way, in the same pass.
Tensor bernoulli(const Shape& shape, float p, Generator& gen, Device device = Device::CPU,
                 float value = 1.0f);

// A view: a new handle on base's storage with another shape, extra_offset elements further in.
// For ops that implement views (reshape, narrow along dim 0); not for users.
Tensor make_view(const Tensor& base, const Shape& shape, int64_t extra_offset = 0);

}  // namespace tg
