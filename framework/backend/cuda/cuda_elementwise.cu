// Elementwise kernels: unary functions, broadcasting binary ops, where,
// and broadcast copies (expand). The math matches backend/cpu/cpu_elementwise.cpp line by line.
#include <type_traits>

#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

__device__ float unary_value(UnaryOp op, float x, float a, float b) {
  switch (op) {
    case UnaryOp::Neg:
      return -x;
    case UnaryOp::Exp:
      return expf(x);
    case UnaryOp::Log:
      return logf(x);
    case UnaryOp::Sqrt:
      return sqrtf(x);
    case UnaryOp::Tanh:
      return tanhf(x);
    case UnaryOp::Sigmoid:
      return 1.0f / (1.0f + expf(-x));
    case UnaryOp::Relu:
      return x > 0 ? x : 0.0f;
    case UnaryOp::Gelu:
      return 0.5f * x * (1.0f + erff(x * kInvSqrt2));  // x Phi(x)
    case UnaryOp::Abs:
      return fabsf(x);
    case UnaryOp::Pow:
      return powf(x, a);
    case UnaryOp::Clamp:
      return fminf(fmaxf(x, a), b);
    case UnaryOp::Sign:
      return static_cast<float>((x > 0) - (x < 0));
    case UnaryOp::GeluDerivative:  // Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)
      return 0.5f * (1.0f + erff(x * kInvSqrt2)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
  }
  return 0.0f;
}

__global__ void unary_kernel(int64_t n, UnaryOp op, const float* x, float* y, float a, float b) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride())
    y[i] = unary_value(op, x[i], a, b);
}

template <class T>
__device__ T arithmetic(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add:
      return x + y;
    case BinaryOp::Sub:
      return x - y;
    case BinaryOp::Mul:
      return x * y;
    case BinaryOp::Div:
      return x / y;
    case BinaryOp::Maximum:
      return x > y ? x : y;
    case BinaryOp::Minimum:
      return x < y ? x : y;
    default:
      return T{};
  }
}

template <class T>
__device__ int32_t comparison(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Eq:
      return x == y;
    case BinaryOp::Ne:
      return x != y;
    case BinaryOp::Lt:
      return x < y;
    case BinaryOp::Le:
      return x <= y;
    case BinaryOp::Gt:
      return x > y;
    case BinaryOp::Ge:
      return x >= y;
    default:
      return 0;
  }
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

// Out is T for arithmetic and int32 (0/1) for comparisons. Index maps an output element to
// the inputs' elements: cuda::FlatIndex where it can, cuda::StridedIndex otherwise.
template <class T, class Out, class Index>
__global__ void binary_kernel(int64_t n, BinaryOp op, const T* a, const T* b, Out* out,
                              Index index) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    int64_t at[2];
    index.offsets(i, at);
    if (op >= BinaryOp::Eq)
      out[i] = static_cast<Out>(comparison(op, a[at[0]], b[at[1]]));
    else
      out[i] = static_cast<Out>(arithmetic(op, a[at[0]], b[at[1]]));
  }
}

template <class T>
void run_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const Shape& shape = out.shape();
  const auto index = cuda::make_strided_index<2>(
      shape, {broadcast_strides(a.shape(), shape), broadcast_strides(b.shape(), shape)}, "binary");
  cuda::with_fastest_index(index, [&](const auto& fastest) {
    using Index = std::decay_t<decltype(fastest)>;
    if (is_comparison(op))
      cuda::launch("binary", out.numel(), binary_kernel<T, int32_t, Index>, op, a.device_data<T>(),
                   b.device_data<T>(), out.device_data<int32_t>(), fastest);
    else
      cuda::launch("binary", out.numel(), binary_kernel<T, T, Index>, op, a.device_data<T>(),
                   b.device_data<T>(), out.device_data<T>(), fastest);
  });
}

template <class Cond, class Index>
__global__ void where_kernel(int64_t n, const Cond* cond, const float* a, const float* b,
                             float* out, Index index) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    int64_t at[3];
    index.offsets(i, at);
    out[i] = cond[at[0]] != 0 ? a[at[1]] : b[at[2]];
  }
}

// Float32 and Int32 are both 4 bytes: copies move 32-bit words whatever the dtype.
template <class Index>
__global__ void gather_words_kernel(int64_t n, const uint32_t* in, uint32_t* out, Index index) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    int64_t at[1];
    index.offsets(i, at);
    out[i] = in[at[0]];
  }
}

}  // namespace

Tensor CudaBackend::unary(UnaryOp op, const Tensor& x, float a, float b) {
  Tensor out = empty(x.shape(), DType::Float32, Device::CUDA);
  cuda::launch("unary", x.numel(), unary_kernel, op, x.device_data<float>(),
               out.device_data<float>(), a, b);
  return out;
}

Tensor CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  // Equal shapes (the common case) build no broadcast shape: one heap allocation less per op.
  const DType dtype = is_comparison(op) ? DType::Int32 : a.dtype();
  Tensor out = a.shape() == b.shape()
                   ? empty(a.shape(), dtype, Device::CUDA)
                   : empty(broadcast_shapes(a.shape(), b.shape(), "binary"), dtype, Device::CUDA);
  if (out.numel() == 0) return out;
  if (a.dtype() == DType::Float32)
    run_binary<float>(op, a, b, out);
  else
    run_binary<int32_t>(op, a, b, out);
  return out;
}

Tensor CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b,
                          const Shape& out_shape) {
  Tensor out = empty(out_shape, DType::Float32, Device::CUDA);
  if (out.numel() == 0) return out;
  const auto index = cuda::make_strided_index<3>(
      out_shape,
      {broadcast_strides(cond.shape(), out_shape), broadcast_strides(a.shape(), out_shape),
       broadcast_strides(b.shape(), out_shape)},
      "where");
  cuda::with_fastest_index(index, [&](const auto& fastest) {
    using Index = std::decay_t<decltype(fastest)>;
    if (cond.dtype() == DType::Int32)
      cuda::launch("where", out.numel(), where_kernel<int32_t, Index>, cond.device_data<int32_t>(),
                   a.device_data<float>(), b.device_data<float>(), out.device_data<float>(),
                   fastest);
    else
      cuda::launch("where", out.numel(), where_kernel<float, Index>, cond.device_data<float>(),
                   a.device_data<float>(), b.device_data<float>(), out.device_data<float>(),
                   fastest);
  });
  return out;
}

Tensor CudaBackend::expand(const Tensor& x, const Shape& shape) {
  Tensor out = empty(shape, x.dtype(), Device::CUDA);
  if (out.numel() == 0) return out;
  const auto index =
      cuda::make_strided_index<1>(shape, {broadcast_strides(x.shape(), shape)}, "expand");
  cuda::gather_words(x, out, index);
  return out;
}

// Shared with cuda_layout.cu: permute is the same gather with permuted strides.
namespace cuda {
void gather_words(const Tensor& x, const Tensor& out, const StridedIndex<1>& index) {
  with_fastest_index(index, [&](const auto& fastest) {
    launch("gather_words", out.numel(), gather_words_kernel<std::decay_t<decltype(fastest)>>,
           static_cast<const uint32_t*>(x.raw_data()), static_cast<uint32_t*>(out.raw_data()),
           fastest);
  });
}
}  // namespace cuda

}  // namespace tg
