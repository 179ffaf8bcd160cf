// The CPU kernels' exp, tanh, sigmoid and erf (framework/backend/cpu/cpu_math.h) against the
// double-precision functions, over a dense sweep and at the special values.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "framework/backend/cpu/cpu_math.h"

using namespace tg;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kUlp = 1.0 / (1 << 23);  // float's spacing at 1, relative

enum class ErrorKind { Relative, Absolute };

// The largest error of f against reference over x = from, from + step, ..., to.
template <class F, class Reference>
double worst_error(F f, Reference reference, float from, float to, float step, ErrorKind kind) {
  double worst = 0;
  for (float x = from; x <= to; x += step) {
    const double want = reference(static_cast<double>(x));
    const double difference = std::abs(static_cast<double>(f(x)) - want);
    const double error = kind == ErrorKind::Relative ? difference / std::abs(want) : difference;
    if (!(error <= worst)) worst = error;  // a NaN makes worst NaN, and the CHECK fails
  }
  return worst;
}

}  // namespace

TEST_CASE("fast_exp: within 3 ulps over the normal range, exact limits") {
  const double error = worst_error(
      fast_exp, [](double x) { return std::exp(x); }, -87.0f, 88.7f, 1e-3f, ErrorKind::Relative);
  INFO("worst relative error ", error / kUlp, " ulps");
  CHECK(error <= 3 * kUlp);
  CHECK(fast_exp(0.0f) == 1.0f);
  CHECK(fast_exp(88.72f) ==
        doctest::Approx(std::exp(double{88.72f})).epsilon(3 * kUlp));  // near FLT_MAX
  CHECK(fast_exp(89.0f) == kInf);
  CHECK(fast_exp(kInf) == kInf);
  CHECK(fast_exp(1e30f) == kInf);
  CHECK(fast_exp(-kInf) == 0.0f);
  CHECK(fast_exp(-1e30f) == 0.0f);
  CHECK(fast_exp(-120.0f) == 0.0f);
  // Subnormal results, to within their spacing (1.4e-45).
  CHECK(std::abs(fast_exp(-100.0f) - std::exp(-100.0)) < 3e-45);
  CHECK(std::isnan(fast_exp(kNaN)));
}

TEST_CASE("fast_tanh and fast_sigmoid: within a few ulps, saturate, keep NaN") {
  const double tanh_error = worst_error(
      fast_tanh, [](double x) { return std::tanh(x); }, -20.0f, 20.0f, 1e-4f, ErrorKind::Relative);
  INFO("tanh: worst relative error ", tanh_error / kUlp, " ulps");
  CHECK(tanh_error <= 8 * kUlp);
  const double sigmoid_error = worst_error(
      fast_sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, -80.0f, 80.0f, 1e-3f,
      ErrorKind::Relative);
  INFO("sigmoid: worst relative error ", sigmoid_error / kUlp, " ulps");
  CHECK(sigmoid_error <= 4 * kUlp);
  CHECK(fast_tanh(0.0f) == 0.0f);
  CHECK(fast_tanh(kInf) == 1.0f);
  CHECK(fast_tanh(-kInf) == -1.0f);
  CHECK(fast_sigmoid(kInf) == 1.0f);
  CHECK(fast_sigmoid(-kInf) == 0.0f);
  CHECK(fast_sigmoid(-200.0f) == 0.0f);
  CHECK(std::isnan(fast_tanh(kNaN)));
  CHECK(std::isnan(fast_sigmoid(kNaN)));
}

TEST_CASE("fast_erf: within 6e-7 absolute, odd, saturates, keeps NaN") {
  const double error = worst_error(
      fast_erf, [](double x) { return std::erf(x); }, -6.0f, 6.0f, 1e-4f, ErrorKind::Absolute);
  INFO("worst absolute error ", error);
  CHECK(error <= 6e-7);
  CHECK(std::abs(fast_erf(0.0f)) <= 6e-7f);
  CHECK(fast_erf(-0.5f) == -fast_erf(0.5f));
  CHECK(fast_erf(kInf) == 1.0f);
  CHECK(fast_erf(-kInf) == -1.0f);
  CHECK(std::isnan(fast_erf(kNaN)));
}

TEST_CASE("normal_cdf_pdf: the normal's cdf and density, as GELU uses them") {
  const double cdf_error =
      worst_error([](float x) { return normal_cdf_pdf(x).cdf; },
                  [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }, -8.0f, 8.0f, 1e-4f,
                  ErrorKind::Absolute);
  INFO("cdf: worst absolute error ", cdf_error);
  CHECK(cdf_error <= 3e-7);
  const double pdf_error =
      worst_error([](float x) { return normal_cdf_pdf(x).pdf; },
                  [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }, -8.0f,
                  8.0f, 1e-4f, ErrorKind::Relative);
  INFO("pdf: worst relative error ", pdf_error / kUlp, " ulps");
  CHECK(pdf_error <= 16 * kUlp);  // mostly the float rounding of x^2 / 2 (32 at x = 8), not exp
  CHECK(normal_cdf_pdf(0.0f).cdf == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(normal_cdf_pdf(-kInf).cdf == 0.0f);
  CHECK(normal_cdf_pdf(kInf).cdf == 1.0f);
  CHECK(std::isnan(normal_cdf_pdf(kNaN).cdf));
}
