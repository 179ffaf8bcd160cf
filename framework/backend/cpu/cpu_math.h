// exp, tanh, sigmoid and erf for the CPU kernels, written so the compiler vectorises the loops
// that call them.
//
// glibc's expf and erff are accurate, but they are function calls the compiler cannot inline, so
// every loop over them runs one float at a time: in a Transformer step exact GELU's erff was 17%
// of the time, and expf shows up in softmax, sigmoid and tanh. These versions are plain
// arithmetic and selects (no branches, no calls), so `for (i) y[i] = fast_exp(x[i])` becomes SIMD
// code. Each states its error bound; tests/framework/test_cpu_math.cpp checks the bounds against
// the double-precision functions, and the special values (inf, -inf, NaN, under- and overflow).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace tg {

// e^x. Write x = k ln2 + r with k = round(x / ln2), so |r| <= ln2 / 2 and e^x = 2^k e^r.
// - ln2 is split into a high part with few mantissa bits (k * kLn2High is exact for the k that
//   occur) and the remainder, so r keeps full precision (Cody and Waite's reduction).
// - e^r is its Taylor series up to r^7: the first omitted term is below
//   (ln2/2)^8 / 8! = 5.2e-9, under a tenth of a float ulp. Measured: within 1 ulp.
// - 2^k is built from its bits ((k + 127) << 23) in two halves, so each half is a normal float
//   even when k is 128 (x near 88.7, the result near FLT_MAX) or -149 (a subnormal result).
// x is first clamped to [-150, 150], beyond which e^x is 0 or inf in float anyway; NaN stays NaN.
inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2High = 0.693145751953125f;  // 15 significant bits: exact times |k| <= 216
  constexpr float kLn2Low = 1.42860682030941723e-6f;
  const bool is_nan = x != x;
  float clamped = is_nan ? 0.0f : x;
  clamped = clamped < -150.0f ? -150.0f : (clamped > 150.0f ? 150.0f : clamped);
  const float scaled = clamped * kLog2e;
  // Round to nearest. floor is one instruction from SSE4.1 on (cpu_vector.h compiles the kernels
  // for those levels too); written as a select on the sign instead, GCC 12 does not vectorise
  // the loop for AVX2 and AVX-512.
  const auto k = static_cast<int32_t>(std::floor(scaled + 0.5f));
  const auto kf = static_cast<float>(k);
  const float r = (clamped - kf * kLn2High) - kf * kLn2Low;
  const float e_r =
      1.0f +
      r * (1.0f +
           r * (1.0f / 2 +
                r * (1.0f / 6 +
                     r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
  const int32_t k_half = k / 2;
  const float scale1 = std::bit_cast<float>((k_half + 127) << 23);
  const float scale2 = std::bit_cast<float>((k - k_half + 127) << 23);
  const float result = e_r * scale1 * scale2;
  return is_nan ? x : result;
}

// tanh(x) = 1 - 2 / (1 + e^(2x)). Near 0, where that subtraction would cancel, the Taylor series
// x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 takes over; within |x| < 1/4 its first omitted
// term is below 3e-9 relative. Worst error: a few ulps. (glibc's tanhf goes through expm1f and
// cost several times more: it was 40% of an LSTM's training step.)
inline float fast_tanh(float x) {
  const float x2 = x * x;
  const float series =
      x * (1.0f + x2 * (-1.0f / 3.0f +
                        x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f + x2 * (62.0f / 2835.0f)))));
  const float through_exp = 1.0f - 2.0f / (1.0f + fast_exp(2.0f * x));
  return (x > -0.25f && x < 0.25f) ? series : through_exp;
}

// sigmoid(x) = 1 / (1 + e^-x): 0 when e^-x overflows to inf, 1 when it underflows to 0.
inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// erf(x) by Abramowitz and Stegun, Handbook of Mathematical Functions, formula 7.1.26:
//   erf(z) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) e^(-z^2),  t = 1 / (1 + p z),  z >= 0,
// and erf(-z) = -erf(z). The formula's error is below 1.5e-7; evaluated in float (the sum
// 1 - ... cancels near 0) the worst absolute error is 5.1e-7, about 4 float ulps of 1.
// erf_tail(z, e^(-z^2)) is the subtracted term, 1 - erf(z).
inline float erf_tail(float z, float exp_minus_z2) {
  constexpr float p = 0.3275911f;
  constexpr float a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f;
  constexpr float a4 = -1.453152027f, a5 = 1.061405429f;
  const float t = 1.0f / (1.0f + p * z);
  return t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5)))) * exp_minus_z2;
}

inline float fast_erf(float x) {
  const float z = x < 0 ? -x : x;
  const float magnitude = 1.0f - erf_tail(z, fast_exp(-z * z));
  return x < 0 ? -magnitude : magnitude;
}

// The standard normal's cdf Phi(x) = (1 + erf(x / sqrt 2)) / 2 and density
// phi(x) = e^(-x^2/2) / sqrt(2 pi), which GELU (x Phi(x)) and its derivative (Phi(x) + x phi(x))
// need. With z = |x| / sqrt 2, e^(-z^2) = e^(-x^2/2): one exp serves both. For x < 0,
// Phi(x) = erf_tail(z) / 2 directly, without the cancellation of 1 - erf.
struct NormalCdfPdf {
  float cdf, pdf;
};
inline NormalCdfPdf normal_cdf_pdf(float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;
  const float e = fast_exp(-0.5f * x * x);
  const float half_tail = 0.5f * erf_tail((x < 0 ? -x : x) * kInvSqrt2, e);
  return {x < 0 ? half_tail : 1.0f - half_tail, kInvSqrt2Pi * e};
}

}  // namespace tg
