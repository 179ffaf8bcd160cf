// Reductions along one dim. x is seen as [outer, n, inner]; the result is [outer, 1, inner].
//
// Two layouts, two kernels: when the reduced elements are contiguous (inner == 1) and the rows
// are long, one block cooperates on each row; otherwise one thread folds each output's n inputs,
// and neighbouring threads read neighbouring addresses (coalesced along inner).
#include <cfloat>

#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

// Rows at least this long are worth a whole block each.
constexpr int64_t kBlockPerRowMinLength = 256;

template <class Op>
__global__ void reduce_rows_kernel(int64_t rows, const float* x, float* out, int64_t n, float start,
                                   Op op) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* in = x + row * n;
    float value = start;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) value = op(value, in[j]);
    value = cuda::block_reduce(value, op);
    if (threadIdx.x == 0) out[row] = value;
  }
}

template <class Op>
__global__ void reduce_columns_kernel(int64_t outputs, const float* x, float* out, int64_t n,
                                      int64_t inner, float start, Op op) {
  for (int64_t i = cuda::first_index(); i < outputs; i += cuda::index_stride()) {
    const float* in = x + (i / inner) * n * inner + i % inner;
    float value = start;
    for (int64_t k = 0; k < n; ++k) value = op(value, in[k * inner]);
    out[i] = value;
  }
}

// As PyTorch: a NaN anywhere makes the max (min) NaN. fmaxf/fminf (cuda::MaxOp, MinOp) return
// the number and drop the NaN, which softmax's row maximum may do but a reduction must not.
// Both keep a NaN whichever side it comes from, so block_reduce may combine in any order.
struct NanPropagatingMaxOp {
  __device__ float operator()(float a, float b) const { return (b > a || b != b) ? b : a; }
};
struct NanPropagatingMinOp {
  __device__ float operator()(float a, float b) const { return (b < a || b != b) ? b : a; }
};

template <class Op>
void run_reduce(const Tensor& x, const Tensor& out, const cuda::Split& s, float start, Op op) {
  if (s.inner == 1 && s.n >= kBlockPerRowMinLength)
    cuda::launch_rows("reduce", s.outer, reduce_rows_kernel<Op>, x.data<float>(), out.data<float>(),
                      s.n, start, op);
  else
    cuda::launch("reduce", s.outer * s.inner, reduce_columns_kernel<Op>, x.data<float>(),
                 out.data<float>(), s.n, s.inner, start, op);
}

// The first index of the largest value, as on the CPU (a later equal value does not win); a NaN
// is larger than every number (PyTorch's argmax returns the first NaN).
__device__ bool better(float value, int64_t index, float best_value, int64_t best_index) {
  const bool value_is_nan = value != value, best_is_nan = best_value != best_value;
  if (value_is_nan || best_is_nan) return value_is_nan && (!best_is_nan || index < best_index);
  return value > best_value || (value == best_value && index < best_index);
}

__global__ void argmax_rows_kernel(int64_t rows, const float* x, int32_t* out, int64_t n) {
  __shared__ float values[cuda::kThreads];
  __shared__ int64_t indices[cuda::kThreads];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* in = x + row * n;
    float best = -FLT_MAX;
    int64_t best_index = n;  // loses to any real element
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
      if (best_index == n || better(in[j], j, best, best_index)) {
        best = in[j];
        best_index = j;
      }
    values[threadIdx.x] = best;
    indices[threadIdx.x] = best_index;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) {
        const unsigned other = threadIdx.x + half;
        if (indices[other] != n &&
            (indices[threadIdx.x] == n ||
             better(values[other], indices[other], values[threadIdx.x], indices[threadIdx.x]))) {
          values[threadIdx.x] = values[other];
          indices[threadIdx.x] = indices[other];
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) out[row] = static_cast<int32_t>(indices[0]);
    __syncthreads();
  }
}

__global__ void argmax_columns_kernel(int64_t outputs, const float* x, int32_t* out, int64_t n,
                                      int64_t inner) {
  for (int64_t i = cuda::first_index(); i < outputs; i += cuda::index_stride()) {
    const float* in = x + (i / inner) * n * inner + i % inner;
    int64_t best = 0;
    for (int64_t k = 1; k < n; ++k)
      if (better(in[k * inner], k, in[best * inner], best)) best = k;
    out[i] = static_cast<int32_t>(best);
  }
}

Shape kept_dim_shape(Shape shape, int64_t dim) {
  shape[dim] = 1;
  return shape;
}

}  // namespace

Tensor CudaBackend::reduce(ReduceOp op, const Tensor& x, int64_t dim) {
  const cuda::Split s = cuda::split_at(x.shape(), dim);
  Tensor out = empty(kept_dim_shape(x.shape(), dim), DType::Float32, Device::CUDA);
  switch (op) {
    case ReduceOp::Sum:
      run_reduce(x, out, s, 0.0f, cuda::SumOp{});
      break;
    case ReduceOp::Max:
      run_reduce(x, out, s, -INFINITY, NanPropagatingMaxOp{});
      break;
    case ReduceOp::Min:
      run_reduce(x, out, s, INFINITY, NanPropagatingMinOp{});
      break;
  }
  return out;
}

Tensor CudaBackend::argmax(const Tensor& x, int64_t dim) {
  const cuda::Split s = cuda::split_at(x.shape(), dim);
  Tensor out = empty(kept_dim_shape(x.shape(), dim), DType::Int32, Device::CUDA);
  if (s.n == 0) return out;
  if (s.inner == 1 && s.n >= kBlockPerRowMinLength)
    cuda::launch_rows("argmax", s.outer, argmax_rows_kernel, x.data<float>(), out.data<int32_t>(),
                      s.n);
  else
    cuda::launch("argmax", s.outer * s.inner, argmax_columns_kernel, x.data<float>(),
                 out.data<int32_t>(), s.n, s.inner);
  return out;
}

}  // namespace tg
