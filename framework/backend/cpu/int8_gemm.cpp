// The int8 kernels of int8_gemm.h. Each computes a tile of MR x NR outputs at a time, MR rows of A
// against NR rows of B, in MR * NR vector accumulators (register blocking: every vector loaded is
// used NR or MR times), then sums each accumulator's lanes once at the end.
//
// AVX2 has no int8 x int8 product. vpmaddubsw multiplies unsigned by signed bytes and adds
// adjacent pairs into saturating int16; with a in [-127, 127] it is fed |a| (unsigned) and
// sign(b, a) = b negated where a < 0, so that |a| * sign(b, a) = a * b and a pair sum is at most
// 2 * 127 * 127 = 32258 < 32767: no saturation. vpmaddwd against ones then widens pairs to int32.
//
// AVX-512 VNNI's vpdpbusd multiplies unsigned by signed bytes and adds groups of four straight
// into int32 (no saturation), but AVX-512 has no byte sign instruction. So a is made unsigned by
// an offset instead: u = a + 128 (a XOR 0x80) in [1, 255], and
//   sum_k u[k] b[k] = sum_k a[k] b[k] + 128 sum_k b[k],
// where the row sums of B are computed once per call and subtracted at the end.
#include "framework/backend/cpu/int8_gemm.h"

#include <algorithm>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TG_INT8_X86 1
#endif

namespace tg {

namespace {

void reference_gemm(int64_t m, int64_t n0, int64_t n1, int64_t n, int64_t stride, const int8_t* a,
                    const int8_t* b, int32_t* c) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = n0; j < n1; ++j) {
      int32_t sum = 0;
      for (int64_t k = 0; k < stride; ++k)
        sum += int32_t{a[i * stride + k]} * int32_t{b[j * stride + k]};
      c[i * n + j] = sum;
    }
}

// Rows of A taken together, so that a block of A stays in the L1/L2 cache while every tile of
// the thread's columns passes over it.
constexpr int64_t kRowBlock = 48;

#ifdef TG_INT8_X86

#define TG_AVX2 __attribute__((target("avx2")))
#define TG_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

namespace avx2 {

// The lane sums of four accumulators at once: two rounds of pairwise horizontal adds leave
// [s0 s1 s2 s3] in each 128-bit half (of its own lanes); adding the halves gives the sums.
TG_AVX2 inline __m128i sum_lanes(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i pairs = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
}

template <int MR, int NR>
TG_AVX2 void tile(const int8_t* a, const int8_t* b, int64_t stride, int32_t* c, int64_t ldc) {
  __m256i acc[MR][4];  // columns past NR stay zero
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t k = 0; k < stride; k += 32) {
    __m256i bv[NR];
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j)
      bv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j * stride + k));
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i * stride + k));
      const __m256i abs_a = _mm256_abs_epi8(av);
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) {
        const __m256i pairs = _mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(bv[j], av));
        acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(pairs, ones));
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    alignas(16) int32_t sums[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(sums),
                    sum_lanes(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) c[i * ldc + j] = sums[j];
  }
}

constexpr int kMR = 2, kNR = 4;  // 8 accumulators + 4 B vectors + A, |A|, ones: 15 registers
using TileFn = void (*)(const int8_t*, const int8_t*, int64_t, int32_t*, int64_t);
constexpr TileFn kTiles[kMR][kNR] = {{tile<1, 1>, tile<1, 2>, tile<1, 3>, tile<1, 4>},
                                     {tile<2, 1>, tile<2, 2>, tile<2, 3>, tile<2, 4>}};

TG_AVX2 void gemm(int64_t m, int64_t n0, int64_t n1, int64_t n, int64_t stride, const int8_t* a,
                  const int8_t* b, int32_t* c) {
  for (int64_t i0 = 0; i0 < m; i0 += kRowBlock)
    for (int64_t j = n0; j < n1; j += kNR) {
      const int64_t nr = std::min<int64_t>(kNR, n1 - j);
      for (int64_t i = i0; i < std::min(m, i0 + kRowBlock); i += kMR) {
        const int64_t mr = std::min<int64_t>(kMR, m - i);
        kTiles[mr - 1][nr - 1](a + i * stride, b + j * stride, stride, c + i * n + j, n);
      }
    }
}

}  // namespace avx2

namespace vnni {

// The sum of the 16 int32 lanes. The halves are taken with a vector-extension shuffle: GCC 12's
// 512-bit extract and reduce intrinsics warn (-Wuninitialized) inside its own header.
TG_VNNI inline int32_t sum_lanes(__m512i v) {
  using Lanes16 = int32_t __attribute__((vector_size(64)));
  const auto x = (Lanes16)v;  // a vector cast: the same 64 bytes seen as 16 int32
  const auto low = __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7);
  const auto high = __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m256i eight = _mm256_add_epi32((__m256i)low, (__m256i)high);
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(eight), _mm256_extracti128_si256(eight, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

template <int MR, int NR>
TG_VNNI void tile(const int8_t* a, const int8_t* b, const int32_t* b_sums, int64_t stride,
                  int32_t* c, int64_t ldc) {
  __m512i acc[MR][NR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_si512();
  const __m512i offset = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t k = 0; k < stride; k += 64) {
    __m512i bv[NR];
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) bv[j] = _mm512_loadu_si512(b + j * stride + k);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m512i u = _mm512_xor_si512(_mm512_loadu_si512(a + i * stride + k), offset);
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], u, bv[j]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) c[i * ldc + j] = sum_lanes(acc[i][j]) - 128 * b_sums[j];
}

constexpr int kMR = 4, kNR = 4;  // 16 accumulators + 4 B vectors + A + offset, of 32 registers
using TileFn = void (*)(const int8_t*, const int8_t*, const int32_t*, int64_t, int32_t*, int64_t);
constexpr TileFn kTiles[kMR][kNR] = {{tile<1, 1>, tile<1, 2>, tile<1, 3>, tile<1, 4>},
                                     {tile<2, 1>, tile<2, 2>, tile<2, 3>, tile<2, 4>},
                                     {tile<3, 1>, tile<3, 2>, tile<3, 3>, tile<3, 4>},
                                     {tile<4, 1>, tile<4, 2>, tile<4, 3>, tile<4, 4>}};

// sum_k b[j, k] for each row j in [n0, n1): vpdpbusd against bytes of 1.
TG_VNNI std::vector<int32_t> row_sums(int64_t n0, int64_t n1, int64_t stride, const int8_t* b) {
  std::vector<int32_t> sums(static_cast<size_t>(n1 - n0));
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t j = n0; j < n1; ++j) {
    __m512i acc = _mm512_setzero_si512();
    for (int64_t k = 0; k < stride; k += 64)
      acc = _mm512_dpbusd_epi32(acc, ones, _mm512_loadu_si512(b + j * stride + k));
    sums[static_cast<size_t>(j - n0)] = sum_lanes(acc);
  }
  return sums;
}

TG_VNNI void gemm(int64_t m, int64_t n0, int64_t n1, int64_t n, int64_t stride, const int8_t* a,
                  const int8_t* b, int32_t* c) {
  const std::vector<int32_t> sums = row_sums(n0, n1, stride, b);
  for (int64_t i0 = 0; i0 < m; i0 += kRowBlock)
    for (int64_t j = n0; j < n1; j += kNR) {
      const int64_t nr = std::min<int64_t>(kNR, n1 - j);
      for (int64_t i = i0; i < std::min(m, i0 + kRowBlock); i += kMR) {
        const int64_t mr = std::min<int64_t>(kMR, m - i);
        kTiles[mr - 1][nr - 1](a + i * stride, b + j * stride, sums.data() + (j - n0), stride,
                               c + i * n + j, n);
      }
    }
}

}  // namespace vnni

#endif  // TG_INT8_X86

// Columns [n0, n1) of C with the chosen kernel.
void gemm_columns(Int8Kernel kernel, int64_t m, int64_t n0, int64_t n1, int64_t n, int64_t stride,
                  const int8_t* a, const int8_t* b, int32_t* c) {
#ifdef TG_INT8_X86
  if (kernel == Int8Kernel::Avx2) return avx2::gemm(m, n0, n1, n, stride, a, b, c);
  if (kernel == Int8Kernel::Avx512Vnni) return vnni::gemm(m, n0, n1, n, stride, a, b, c);
#endif
  reference_gemm(m, n0, n1, n, stride, a, b, c);
}

}  // namespace

const char* to_string(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::Scalar:
      return "scalar";
    case Int8Kernel::Avx2:
      return "AVX2";
    case Int8Kernel::Avx512Vnni:
      return "AVX-512 VNNI";
  }
  return "?";
}

bool cpu_runs(Int8Kernel kernel) {
#ifdef TG_INT8_X86
  switch (kernel) {
    case Int8Kernel::Scalar:
      return true;
    case Int8Kernel::Avx2:
      return __builtin_cpu_supports("avx2");
    case Int8Kernel::Avx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return kernel == Int8Kernel::Scalar;
#endif
}

Int8Kernel best_int8_kernel() {
  static const Int8Kernel best = cpu_runs(Int8Kernel::Avx512Vnni) ? Int8Kernel::Avx512Vnni
                                 : cpu_runs(Int8Kernel::Avx2)     ? Int8Kernel::Avx2
                                                                  : Int8Kernel::Scalar;
  return best;
}

void int8_gemm_nt(Int8Kernel kernel, int64_t m, int64_t n, int64_t stride, const int8_t* a,
                  const int8_t* b, int32_t* c) {
  // Each thread takes a band of columns (whole 4-column tiles): it reads all of A and its own
  // rows of B, and writes its own columns of C.
  constexpr int64_t kParallelWork = int64_t{1} << 21;  // multiply-adds
  constexpr int64_t kBand = 16;
  const int64_t bands = (n + kBand - 1) / kBand;
#pragma omp parallel for schedule(static) if (m * n * stride >= kParallelWork && bands > 1)
  for (int64_t band = 0; band < bands; ++band)
    gemm_columns(kernel, m, band * kBand, std::min(n, (band + 1) * kBand), n, stride, a, b, c);
}

}  // namespace tg
