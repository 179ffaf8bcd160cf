#include "framework/tensor.h"

#include <atomic>
#include <memory>

#include "framework/recycling.h"

namespace tg {

const char* to_string(DType dtype) { return dtype == DType::Float32 ? "float32" : "int32"; }
std::ostream& operator<<(std::ostream& out, DType dtype) { return out << to_string(dtype); }

size_t dtype_size(DType) { return 4; }  // float32 and int32

// Every tensor's TensorImpl and Storage come from this thread's recycled blocks (recycling.h):
// a training step makes and frees thousands of them.
template <class T, class... Args>
static std::shared_ptr<T> make_recycled(Args&&... args) {
  return std::allocate_shared<T>(RecyclingAllocator<T>{}, std::forward<Args>(args)...);
}

static uint64_t next_tensor_id() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

// ---- accessors ----

void Tensor::fail_undefined() { fail("tensor: use of an undefined tensor"); }

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }
void* Tensor::raw_data() const {
  const TensorImpl& impl = checked();
  return static_cast<char*>(impl.storage->data()) + impl.offset * dtype_size(impl.dtype);
}

template <class T>
T* Tensor::data() const {
  // Emulated GPU memory is host memory, so only this check catches host code reading a CUDA
  // tensor there; on a real GPU the read would crash or return garbage.
  check(device() == Device::CPU, "tensor data: data<T>() reads host memory, but the tensor is on ",
        device(), "; copy it first with .to(Device::CPU) (or read it with to_vector)");
  return device_data<T>();
}
template <class T>
T* Tensor::device_data() const {
  constexpr DType wanted = std::is_same_v<T, float> ? DType::Float32 : DType::Int32;
  check(dtype() == wanted, "tensor data: tensor is ", dtype(), ", asked for ", wanted);
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template int32_t* Tensor::data<int32_t>() const;
template float* Tensor::device_data<float>() const;
template int32_t* Tensor::device_data<int32_t>() const;

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

Tensor Tensor::detach() const {
  auto impl = make_recycled<TensorImpl>(checked());
  impl->requires_grad = false;
  impl->tape_generation = 0;
  impl->grad.reset();
  impl->id = next_tensor_id();
  return Tensor(impl);
}

// ---- the one creation that needs no kernel: memory from the device's allocator ----

Tensor empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) check(d >= 0, "empty: negative dimension in shape ", shape);
  auto impl = make_recycled<TensorImpl>();
  const auto bytes = static_cast<size_t>(numel_of(shape, "empty")) * dtype_size(dtype);
  impl->storage = make_recycled<Storage>(bytes, device);
  impl->shape = shape;
  impl->dtype = dtype;
  impl->id = next_tensor_id();
  return Tensor(impl);
}

// A new handle on the same storage with another shape: what every view is.
Tensor make_view(const Tensor& base, const Shape& shape, int64_t extra_offset) {
  auto impl = make_recycled<TensorImpl>();
  impl->storage = base.storage();
  impl->offset = base.storage_offset() + extra_offset;
  impl->shape = shape;
  impl->dtype = base.dtype();
  impl->id = next_tensor_id();
  return Tensor(impl);
}

}  // namespace tg
