// Helpers shared by the CUDA kernels: launch shapes, index arithmetic for broadcasting and
// permutations, and block-wide reductions. Included by the .cu files only.
//
// Three launch patterns cover every kernel here:
//   - one thread per element, a grid-stride loop over [0, n)               (launch)
//   - one block per row, its threads striding over the row's elements     (launch_rows)
//   - a warp per row for rows up to kWarpRowMaxLength long, a block per
//     longer row, one kernel template written for both (RowGroup below)   (launch_row_groups)
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "framework/backend/cuda/cuda_check.h"
#include "framework/backend/strides.h"
#include "framework/tensor.h"

namespace tg::cuda {

constexpr int kThreads = 256;
// Grid-stride loops let a capped grid cover any n; past this many blocks, more buys nothing.
// The CPU emulation of CUDA used by the tests caps grids at 8 blocks instead, so that every
// kernel's grid-stride loop (and every row loop) really loops there, on small tensors.
#if defined(TAPEGRAD_CUDA_EMULATOR)
constexpr int64_t kMaxBlocks = 8;
#else
constexpr int64_t kMaxBlocks = 65535;
#endif

inline unsigned blocks_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

__device__ inline int64_t first_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t index_stride() { return static_cast<int64_t>(blockDim.x) * gridDim.x; }

// Whether the threads of a block work together (shared memory, __syncthreads, warp shuffles) or
// each alone. A GPU does not need telling; the CPU emulation of CUDA that the tests build this
// backend against (tests/cuda_emulator) runs lone threads as plain calls, which is much faster.
enum class BlockThreads { Alone, Together };

// kernel<<<blocks, kThreads>>>(args...), then the launch checked. The emulator, compiled by the
// host compiler, has no <<<>>> syntax: there it runs the grid itself.
template <class... Params, class... Args>
void launch_grid(const char* name, unsigned blocks, [[maybe_unused]] BlockThreads threads,
                 void (*kernel)(Params...), Args&&... args) {
#if defined(TAPEGRAD_CUDA_EMULATOR)
  cuda_emulator::launch(name, blocks, kThreads, threads == BlockThreads::Together, kernel,
                        std::forward<Args>(args)...);
#else
  // clang-format would split the launch brackets into "> > >".
  // clang-format off
  kernel<<<blocks, kThreads>>>(std::forward<Args>(args)...);
  // clang-format on
#endif
  check_launch(name);
}

// One thread per element: kernel(n, args...) must loop i = first_index(); i < n; i += stride.
template <class... Params, class... Args>
void launch(const char* name, int64_t n, void (*kernel)(int64_t, Params...), Args&&... args) {
  if (n <= 0) return;
  launch_grid(name, blocks_for(n), BlockThreads::Alone, kernel, n, std::forward<Args>(args)...);
}

// One block per row: kernel(rows, args...) must loop row = blockIdx.x; row < rows; += gridDim.x.
template <class... Params, class... Args>
void launch_rows(const char* name, int64_t rows, void (*kernel)(int64_t, Params...),
                 Args&&... args) {
  if (rows <= 0) return;
  const auto blocks = static_cast<unsigned>(rows < kMaxBlocks ? rows : kMaxBlocks);
  launch_grid(name, blocks, BlockThreads::Together, kernel, rows, std::forward<Args>(args)...);
}

// Sizes of a tensor seen as [outer, n, inner] around dimension dim.
using Split = DimSplit;  // framework/backend/strides.h
using tg::split_at;
// The first element of row r of a tensor seen as [outer, n, inner]; its elements lie inner apart.
__host__ __device__ inline int64_t row_start(const Split& s, int64_t r) {
  return (r / s.inner) * s.n * s.inner + r % s.inner;
}

// ---- strided indexing: broadcasting and permutations ----

constexpr int kMaxDims = 8;

// Maps an element of the output (row-major over `shape`) to an element offset in each of
// `Inputs` inputs, given each input's stride along every output dim (0 where it is broadcast).
// Passed to kernels by value: it lives in the kernel's parameter space, no device allocation.
template <int Inputs>
struct StridedIndex {
  int rank = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[Inputs][kMaxDims] = {};

  __device__ void offsets(int64_t i, int64_t (&out)[Inputs]) const {
    for (int k = 0; k < Inputs; ++k) out[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t coordinate = i % shape[d];
      i /= shape[d];
      for (int k = 0; k < Inputs; ++k) out[k] += coordinate * strides[k][d];
    }
  }
};

// The common case, where make_strided_index merged every dim into one: each input walks the
// output contiguously (stride 1: same shapes) or is one broadcast value (stride 0), so an offset
// is i * stride, without the 64-bit division and modulo per dim of StridedIndex.
template <int Inputs>
struct FlatIndex {
  int64_t strides[Inputs] = {};

  __device__ void offsets(int64_t i, int64_t (&out)[Inputs]) const {
    for (int k = 0; k < Inputs; ++k) out[k] = i * strides[k];
  }
};

// Calls launch_with(index) with the FlatIndex of `index` where one serves, else with `index`
// itself: launch_with is a generic lambda that launches kernel<decltype(index)>.
template <int Inputs, class Launch>
void with_fastest_index(const StridedIndex<Inputs>& index, Launch launch_with) {
  if (index.rank > 1) {
    launch_with(index);
    return;
  }
  FlatIndex<Inputs> flat;
  for (int k = 0; k < Inputs && index.rank == 1; ++k) flat.strides[k] = index.strides[k][0];
  launch_with(flat);
}

// Builds a StridedIndex, first dropping size-1 dims and merging neighbouring dims that every
// input walks contiguously (stride[d] == stride[d+1] * shape[d+1]): [32,10,64] + [64] becomes
// [320,64], so any rank works as long as at most kMaxDims "real" dims remain.
template <int Inputs>
StridedIndex<Inputs> make_strided_index(const Shape& shape,
                                        const std::array<std::vector<int64_t>, Inputs>& strides,
                                        const char* op) {
  std::vector<int64_t> merged_shape;
  std::array<std::vector<int64_t>, Inputs> merged;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool contiguous = !merged_shape.empty();
    for (int k = 0; k < Inputs && contiguous; ++k)
      contiguous = merged[k].back() == strides[k][d] * shape[d];
    if (contiguous) {
      merged_shape.back() *= shape[d];
      for (int k = 0; k < Inputs; ++k) merged[k].back() = strides[k][d];
    } else {
      merged_shape.push_back(shape[d]);
      for (int k = 0; k < Inputs; ++k) merged[k].push_back(strides[k][d]);
    }
  }
  check(merged_shape.size() <= kMaxDims, op, ": the CUDA backend indexes at most ", kMaxDims,
        " non-mergeable dims, shape ", to_string(shape), " needs ", merged_shape.size());
  StridedIndex<Inputs> index;
  index.rank = static_cast<int>(merged_shape.size());
  for (int d = 0; d < index.rank; ++d) {
    index.shape[d] = merged_shape[d];
    for (int k = 0; k < Inputs; ++k) index.strides[k][d] = merged[k][d];
  }
  return index;
}

// out[i] = x[index(i)] as 32-bit words (float32 and int32 alike): expand and permute.
void gather_words(const Tensor& x, const Tensor& out, const StridedIndex<1>& index);

// ---- block-wide reductions (blockDim.x == kThreads) ----

struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct MinOp {
  __device__ float operator()(float a, float b) const { return fminf(a, b); }
};

// Combines one value per thread into one value, returned to every thread of the block. Warps
// reduce with shuffles, then warp 0 reduces the per-warp results. The order of the additions is
// fixed by the thread layout, so the result is the same on every run.
template <class Op>
__device__ float block_reduce(float value, Op op) {
  constexpr int kWarps = kThreads / 32;
  __shared__ float warp_results[kWarps];
  __shared__ float result;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int offset = 16; offset > 0; offset /= 2)
    value = op(value, __shfl_down_sync(0xffffffffu, value, offset));
  if (lane == 0) warp_results[warp] = value;
  __syncthreads();
  if (warp == 0) {
    // Only lanes [0, kWarps) hold results; lane 0 combines exactly those.
    value = lane < kWarps ? warp_results[lane] : 0.0f;
    for (int offset = kWarps / 2; offset > 0; offset /= 2)
      value = op(value, __shfl_down_sync(0xffffffffu, value, offset));
    if (lane == 0) result = value;
  }
  __syncthreads();
  const float total = result;
  __syncthreads();  // the shared slots may be reused by the next call
  return total;
}

// ---- a warp or a block per row ----

constexpr int kWarpSize = 32;
// Rows up to this long get one warp each (at most 32 elements per lane), kThreads / 32 rows per
// block; longer rows a whole block each. A block on a row of 5-64 elements (classes, a short
// sequence's attention scores) would leave most of its 256 threads idle and wait at two barriers
// per reduction for nothing; a warp reduces with shuffles alone. PyTorch's softmax switches at
// the same length.
constexpr int64_t kWarpRowMaxLength = 1024;

// Combines one value per lane into one value, returned to every lane of the warp. A butterfly
// (xor shuffles): lanes i and i^m both compute op of the same two values, and op is commutative,
// so every lane ends with the same bits.
template <class Op>
__device__ float warp_reduce(float value, Op op) {
  for (int lane_mask = kWarpSize / 2; lane_mask > 0; lane_mask /= 2)
    value = op(value, __shfl_xor_sync(0xffffffffu, value, lane_mask));
  return value;
}

// Which threads share a row, for kernels written once for both (kernel<RowGroup>):
//   for (row = G::first_row(); row < rows; row += G::row_stride())
//     for (j = G::lane(); j < n; j += G::width()) ... G::reduce(value, op) ...
// Every thread of a group runs the same rows, so the whole group reaches each reduction.
struct BlockPerRow {
  __device__ static int64_t first_row() { return blockIdx.x; }
  __device__ static int64_t row_stride() { return gridDim.x; }
  __device__ static int64_t lane() { return threadIdx.x; }
  __device__ static int64_t width() { return blockDim.x; }
  template <class Op>
  __device__ static float reduce(float value, Op op) {
    return block_reduce(value, op);
  }
};
struct WarpPerRow {
  static constexpr int kRowsPerBlock = kThreads / kWarpSize;
  __device__ static int64_t first_row() {
    return static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  }
  __device__ static int64_t row_stride() { return static_cast<int64_t>(gridDim.x) * kRowsPerBlock; }
  __device__ static int64_t lane() { return threadIdx.x % kWarpSize; }
  __device__ static int64_t width() { return kWarpSize; }
  template <class Op>
  __device__ static float reduce(float value, Op op) {
    return warp_reduce(value, op);
  }
};

inline bool warp_per_row(int64_t length) { return length <= kWarpRowMaxLength; }

// The names of a kernel's two launches, in errors and in the emulator's count of launches:
// {"softmax (warp per row)", "softmax (block per row)"}. Literals: a launch allocates nothing.
struct RowGroupNames {
  const char* warp_per_row;
  const char* block_per_row;
};

// kernel<WarpPerRow> for rows up to kWarpRowMaxLength long, else kernel<BlockPerRow>; both must
// loop over rows as RowGroup says.
template <class... Params, class... Args>
void launch_row_groups(RowGroupNames names, int64_t rows, int64_t length,
                       void (*warp_kernel)(int64_t, Params...),
                       void (*block_kernel)(int64_t, Params...), Args&&... args) {
  if (rows <= 0) return;
  if (!warp_per_row(length)) {
    launch_rows(names.block_per_row, rows, block_kernel, std::forward<Args>(args)...);
    return;
  }
  const int64_t blocks = (rows + WarpPerRow::kRowsPerBlock - 1) / WarpPerRow::kRowsPerBlock;
  launch_grid(names.warp_per_row, static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks),
              BlockThreads::Together, warp_kernel, rows, std::forward<Args>(args)...);
}

}  // namespace tg::cuda
