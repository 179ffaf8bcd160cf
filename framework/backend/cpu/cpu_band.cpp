// The banded products of local attention on the CPU (backend.h states the three). A row is one
// (n, i); entry t of its band is position j = i - w + t, and only the entries with j in [0, L)
// are computed: t in [first_t, last_t] = [max(0, w - i), min(2w, L - 1 - i + w)]. The rest of the
// band is written 0. Each row costs (2w+1) d multiply-adds, so a whole product L (2w+1) d per n:
// linear in L, where full attention's q k^T is L^2 d.
//
// The inner loops run over the d features of a position, contiguous in memory, so they
// vectorise; OpenMP splits the rows across threads once there is enough work.
#include <algorithm>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_vector.h"

namespace tg {
namespace {

// The band entries of row i whose position j = i - w + t lies in [0, len).
struct BandRange {
  int64_t first, last;  // inclusive; first > last when none does
};
BandRange band_range(int64_t i, int64_t len, int64_t window) {
  return {std::max<int64_t>(0, window - i), std::min<int64_t>(2 * window, len - 1 - i + window)};
}

// A tensor seen as [N, L, width].
struct BandShape {
  int64_t rows, len, width;  // rows = N * L
};
BandShape band_shape(const Tensor& x) {
  int64_t rows = 1;
  for (int64_t k = 0; k + 1 < x.dim(); ++k) rows *= x.size(k);
  return {rows, x.size(-2), x.size(-1)};
}

// out[t] = a . b[j] for the row's band; 0 outside [0, len).
TG_VECTOR_KERNEL void band_dot_row(const float* a, const float* b_sequence, float* out, int64_t i,
                                   int64_t len, int64_t window, int64_t d) {
  const BandRange range = band_range(i, len, window);
  std::fill(out, out + 2 * window + 1, 0.0f);
  for (int64_t t = range.first; t <= range.last; ++t) {
    const float* b = b_sequence + (i - window + t) * d;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < d; ++c) sum += a[c] * b[c];
    out[t] = sum;
  }
}

// out = sum_t p[t] v[j], an axpy per band entry.
TG_VECTOR_KERNEL void band_weighted_sum_row(const float* p, const float* v_sequence, float* out,
                                            int64_t i, int64_t len, int64_t window, int64_t d) {
  const BandRange range = band_range(i, len, window);
  std::fill(out, out + d, 0.0f);
  for (int64_t t = range.first; t <= range.last; ++t) {
    const float* v = v_sequence + (i - window + t) * d;
    const float weight = p[t];
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) out[c] += weight * v[c];
  }
}

}  // namespace

Tensor CpuBackend::band_dot(const Tensor& a, const Tensor& b, int64_t window) {
  const BandShape s = band_shape(a);
  const int64_t band = 2 * window + 1;
  Shape out_shape = a.shape();
  out_shape.back() = band;
  Tensor out = empty(out_shape);
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for if (s.rows * band * s.width >= kParallelThreshold)
  for (int64_t r = 0; r < s.rows; ++r) {
    const int64_t i = r % s.len, sequence = r - i;  // sequence: row 0 of this n
    band_dot_row(pa + r * s.width, pb + sequence * s.width, po + r * band, i, s.len, window,
                 s.width);
  }
  return out;
}

Tensor CpuBackend::band_weighted_sum(const Tensor& p, const Tensor& v, int64_t window) {
  const BandShape s = band_shape(v);
  const int64_t band = 2 * window + 1;
  Tensor out = empty(v.shape());
  const float *pp = p.data<float>(), *pv = v.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for if (s.rows * band * s.width >= kParallelThreshold)
  for (int64_t r = 0; r < s.rows; ++r) {
    const int64_t i = r % s.len, sequence = r - i;
    band_weighted_sum_row(pp + r * band, pv + sequence * s.width, po + r * s.width, i, s.len,
                          window, s.width);
  }
  return out;
}

// out[j, s] = p[i, 2w - s] with i = j - w + s: the same band_range, read backwards.
Tensor CpuBackend::band_transpose(const Tensor& p, int64_t window) {
  const BandShape s = band_shape(p);
  const int64_t band = 2 * window + 1;
  Tensor out = empty(p.shape());
  const float* in = p.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for if (s.rows * band >= kParallelThreshold)
  for (int64_t r = 0; r < s.rows; ++r) {
    const int64_t j = r % s.len, sequence = r - j;
    const BandRange range = band_range(j, s.len, window);
    float* row = po + r * band;
    std::fill(row, row + band, 0.0f);
    for (int64_t t = range.first; t <= range.last; ++t)
      row[t] = in[(sequence + j - window + t) * band + 2 * window - t];
  }
  return out;
}

}  // namespace tg
