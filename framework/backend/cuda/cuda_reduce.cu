// Reductions along one dim. x is seen as [outer, n, inner]; the result is [outer, 1, inner].
//
// Two layouts, two families of kernels:
//   - contiguous rows (inner == 1) of at least kGroupPerRowMinLength elements: a warp per row up
//     to cuda::kWarpRowMaxLength, a block per longer row; shorter rows, one thread per row;
//   - otherwise (inner > 1) one thread per output folds its n inputs, neighbouring threads
//     reading neighbouring addresses (coalesced along inner).
// Few long reductions (a full sum for clip_grad_norm, a bias gradient summed over a large batch)
// would leave most of the GPU idle and one thread, or one block, looping over everything: there
// each reduction is first split into pieces, reduced in parallel into [outer, pieces, inner]
// partials, then the partials are reduced the same way. The pieces and their order are fixed by
// the shapes alone, so the result is the same on every run.
#include <algorithm>
#include <cfloat>

#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

// Rows shorter than a warp are left to one thread each.
constexpr int64_t kGroupPerRowMinLength = cuda::kWarpSize;
// Below this many groups of threads the GPU is mostly idle (an H100 has 132 multiprocessors):
// reductions are split until there are about this many blocks' worth of work.
constexpr int64_t kTargetBlocks = 256;
// The shortest piece worth its own block (8 elements per thread), or its own thread.
constexpr int64_t kMinRowPiece = 8 * cuda::kThreads;
constexpr int64_t kMinColumnPiece = 32;

// How a reduction of length n is split: `pieces` pieces of `length` elements (the last shorter).
struct Pieces {
  int64_t count = 1;
  int64_t length = 0;
};
// As many pieces as bring `groups` parallel reductions up to `target`, none shorter than
// `min_length`.
Pieces split_reduction(int64_t n, int64_t groups, int64_t target, int64_t min_length) {
  if (n < 2 * min_length) return {1, n};
  const int64_t wanted = (target + groups - 1) / groups, most = n / min_length;
  const int64_t count = std::max<int64_t>(1, std::min(wanted, most));
  const int64_t length = (n + count - 1) / count;
  return {(n + length - 1) / length, length};
}

// out[o * pieces + p] = op over piece p of row o: x[o, p * length .. min(n, (p + 1) * length)).
template <class Rows, class Op>
__global__ void reduce_rows_kernel(int64_t rows, const float* x, float* out, int64_t n,
                                   Pieces pieces, float start, Op op) {
  for (int64_t row = Rows::first_row(); row < rows; row += Rows::row_stride()) {
    const int64_t begin = (row % pieces.count) * pieces.length;
    const int64_t length = min(pieces.length, n - begin);
    const float* in = x + (row / pieces.count) * n + begin;
    float value = start;
    for (int64_t j = Rows::lane(); j < length; j += Rows::width()) value = op(value, in[j]);
    value = Rows::reduce(value, op);
    if (Rows::lane() == 0) out[row] = value;
  }
}

// out[o, p, i] = op over piece p of column (o, i): x[o, k, i] for k in the piece.
template <class Op>
__global__ void reduce_columns_kernel(int64_t outputs, const float* x, float* out, int64_t n,
                                      int64_t inner, Pieces pieces, float start, Op op) {
  for (int64_t i = cuda::first_index(); i < outputs; i += cuda::index_stride()) {
    const int64_t column = i % inner, piece = (i / inner) % pieces.count;
    const int64_t o = i / inner / pieces.count;
    const int64_t begin = piece * pieces.length, length = min(pieces.length, n - begin);
    const float* in = x + (o * n + begin) * inner + column;
    float value = start;
    for (int64_t k = 0; k < length; ++k) value = op(value, in[k * inner]);
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

// Reduces x, seen as [s.outer, s.n, s.inner], along n into out ([s.outer, 1, s.inner]).
template <class Op>
void run_reduce(const float* x, float* out, const cuda::Split& s, float start, Op op) {
  const bool rows = s.inner == 1 && s.n >= kGroupPerRowMinLength;
  const Pieces pieces =
      rows ? (cuda::warp_per_row(s.n) ? Pieces{1, s.n}
                                      : split_reduction(s.n, s.outer, kTargetBlocks, kMinRowPiece))
           : split_reduction(s.n, s.outer * s.inner, kTargetBlocks * cuda::kThreads,
                             kMinColumnPiece);
  Tensor partials;
  float* target = out;
  if (pieces.count > 1) {
    partials = empty({s.outer, pieces.count, s.inner}, DType::Float32, Device::CUDA);
    target = partials.device_data<float>();
  }
  if (rows)
    cuda::launch_row_groups(
        {"reduce (warp per row)", "reduce (block per row)"}, s.outer * pieces.count, pieces.length,
        reduce_rows_kernel<cuda::WarpPerRow, Op>, reduce_rows_kernel<cuda::BlockPerRow, Op>, x,
        target, s.n, pieces, start, op);
  else
    cuda::launch("reduce (thread per output)", s.outer * pieces.count * s.inner,
                 reduce_columns_kernel<Op>, x, target, s.n, s.inner, pieces, start, op);
  if (pieces.count > 1) run_reduce(target, out, {s.outer, pieces.count, s.inner}, start, op);
}

// Argmax keeps its own two kernels: a block per row from this length on, else a thread per row.
constexpr int64_t kArgmaxBlockPerRowMinLength = 256;

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
      run_reduce(x.device_data<float>(), out.device_data<float>(), s, 0.0f, cuda::SumOp{});
      break;
    case ReduceOp::Max:
      run_reduce(x.device_data<float>(), out.device_data<float>(), s, -INFINITY,
                 NanPropagatingMaxOp{});
      break;
    case ReduceOp::Min:
      run_reduce(x.device_data<float>(), out.device_data<float>(), s, INFINITY,
                 NanPropagatingMinOp{});
      break;
  }
  return out;
}

Tensor CudaBackend::argmax(const Tensor& x, int64_t dim) {
  const cuda::Split s = cuda::split_at(x.shape(), dim);
  Tensor out = empty(kept_dim_shape(x.shape(), dim), DType::Int32, Device::CUDA);
  if (s.n == 0) return out;
  if (s.inner == 1 && s.n >= kArgmaxBlockPerRowMinLength)
    cuda::launch_rows("argmax", s.outer, argmax_rows_kernel, x.device_data<float>(),
                      out.device_data<int32_t>(), s.n);
  else
    cuda::launch("argmax", s.outer * s.inner, argmax_columns_kernel, x.device_data<float>(),
                 out.device_data<int32_t>(), s.n, s.inner);
  return out;
}

}  // namespace tg
