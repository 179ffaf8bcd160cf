// Layout kernels: broadcast copies, permutations, block copies along a dim, gather/scatter rows.
#include <algorithm>
#include <cstring>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_broadcast.h"

namespace tg {

Tensor CpuBackend::expand(const Tensor& x, const Shape& shape) {
  Tensor out = empty(shape, x.dtype(), Device::CPU);
  const int64_t n = out.numel();
  if (n == 0) return out;
  const auto strides = broadcast_strides(x.shape(), shape);
  const int64_t cols = shape.empty() ? 1 : shape.back();
  const int64_t step = strides.empty() ? 0 : strides.back();
  const int64_t rows = n / cols;
  // Float32 and Int32 are both 4 bytes: copy as 32-bit words.
  const auto* in = static_cast<const uint32_t*>(x.raw_data());
  auto* o = static_cast<uint32_t*>(out.raw_data());
#pragma omp parallel for if (n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const uint32_t* src = in + (shape.empty() ? 0 : row_offset(r, shape, strides));
    uint32_t* dst = o + r * cols;
    // A row is a copy of a source row, or one source value repeated (a broadcast last dim):
    // each its own loop, so each is a plain vector copy or fill.
    if (step == 1)
      std::copy(src, src + cols, dst);
    else
      std::fill(dst, dst + cols, src[0]);
  }
  return out;
}

Tensor CpuBackend::permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const Permuted p = permuted(x.shape(), dims);
  const Shape& out_shape = p.shape;
  const std::vector<int64_t>& strides_by_out = p.strides;  // input stride per output dim
  const size_t rank = dims.size();
  Tensor out = empty(out_shape, x.dtype(), Device::CPU);
  const int64_t n = out.numel();
  if (n == 0) return out;
  const auto* in = static_cast<const uint32_t*>(x.raw_data());
  auto* o = static_cast<uint32_t*>(out.raw_data());
  const int64_t cols = rank == 0 ? 1 : out_shape.back();
  const int64_t step = rank == 0 ? 0 : strides_by_out.back();
  // The last two output dims are walked as one [rows, cols] block from one base offset, so the
  // divisions of row_offset run once per block, not once per row: splitting attention heads
  // makes rows of 16 elements, where that index arithmetic cost more than the copy itself.
  const int64_t rows = rank < 2 ? 1 : out_shape[rank - 2];
  const int64_t row_step = rank < 2 ? 0 : strides_by_out[rank - 2];
#pragma omp parallel for if (n >= kParallelThreshold)
  for (int64_t block = 0; block < n / (rows * cols); ++block) {
    const int64_t first_row = block * rows;
    const uint32_t* base = in + (rank == 0 ? 0 : row_offset(first_row, out_shape, strides_by_out));
    for (int64_t r = 0; r < rows; ++r) {
      const uint32_t* src = base + r * row_step;
      uint32_t* dst = o + (first_row + r) * cols;
      for (int64_t c = 0; c < cols; ++c) dst[c] = src[c * step];
    }
  }
  return out;
}

void CpuBackend::copy_block(const Tensor& src, int64_t src_n, int64_t src_start, const Tensor& dst,
                            int64_t dst_n, int64_t dst_start, int64_t length, int64_t outer,
                            int64_t inner) {
  const auto* in = static_cast<const char*>(src.raw_data());
  auto* out = static_cast<char*>(dst.raw_data());
  const size_t row_bytes = static_cast<size_t>(length * inner) * 4;
#pragma omp parallel for if (outer * length * inner >= kParallelThreshold)
  for (int64_t o = 0; o < outer; ++o) {
    std::memcpy(out + ((o * dst_n + dst_start) * inner) * 4,
                in + ((o * src_n + src_start) * inner) * 4, row_bytes);
  }
}

// The host already holds the values: a plain loop, no copy.
void CpuBackend::check_range(const Tensor& values, const RangeCheck& range) {
  const int32_t* value = values.data<int32_t>();
  const int64_t n = values.numel();
  for (int64_t i = 0; i < n; ++i)
    if (!range.allows(value[i])) fail_out_of_range(range, value[i], i);
}

Tensor CpuBackend::index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const auto [outer, n, inner] = split_at(x.shape(), dim);
  Shape out_shape = x.shape();
  const int64_t count = index.numel();
  out_shape[dim] = count;
  Tensor out = empty(out_shape, x.dtype(), Device::CPU);
  const auto* in = static_cast<const uint32_t*>(x.raw_data());
  auto* o = static_cast<uint32_t*>(out.raw_data());
  const int32_t* idx = index.data<int32_t>();
#pragma omp parallel for if (outer * count * inner >= kParallelThreshold)
  for (int64_t r = 0; r < outer; ++r)
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(o + (r * count + i) * inner, in + (r * n + idx[i]) * inner,
                  static_cast<size_t>(inner) * 4);
  return out;
}

void CpuBackend::index_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src,
                           int64_t skip_index) {
  const auto [outer, n, inner] = split_at(dst.shape(), dim);
  const int64_t count = index.numel();
  float* out = dst.data<float>();
  const float* in = src.data<float>();
  const int32_t* idx = index.data<int32_t>();
  // Several i may hit the same row, so rows are not split across threads; parallel over outer
  // (distinct output blocks) or, when outer == 1, over columns of inner.
  if (outer > 1) {
#pragma omp parallel for if (outer * count * inner >= kParallelThreshold)
    for (int64_t r = 0; r < outer; ++r)
      for (int64_t i = 0; i < count; ++i) {
        if (idx[i] == skip_index) continue;
        float* row = out + (r * n + idx[i]) * inner;
        const float* add = in + (r * count + i) * inner;
        for (int64_t c = 0; c < inner; ++c) row[c] += add[c];
      }
  } else {
#pragma omp parallel for if (count * inner >= kParallelThreshold)
    for (int64_t c = 0; c < inner; ++c)
      for (int64_t i = 0; i < count; ++i)
        if (idx[i] != skip_index) out[idx[i] * inner + c] += in[i * inner + c];
  }
}

}  // namespace tg
