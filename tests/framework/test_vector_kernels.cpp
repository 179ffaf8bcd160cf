// The CPU backend's vector kernels (compiled for AVX-512, AVX2, SSE4.2 and the baseline, the
// CPU's best chosen at load time: framework/backend/cpu/cpu_vector.h) against cpu_math.h's
// scalar functions, element by element. The vector copies may contract a*b+c into one FMA,
// so they may differ from the scalar reference in the last bits: a few ulps are allowed.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "framework/backend/cpu/cpu_math.h"
#include "framework/tapegrad.h"

namespace tg {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The derivatives 1 - y^2 and Phi + x phi cancel: the few ulps by which a vector y may differ
// (6e-8 each near 1) come out doubled, absolute, in 1 - y^2.
constexpr float kCancelling = 1e-6f;

// Inputs over [-20, 20) in steps fine enough to cross every branch of the functions (|x| < 1/4
// for tanh's series, the clamps of exp), then the special values; 40 003 elements, enough for
// the kernels to take their parallel path too.
std::vector<float> sweep() {
  std::vector<float> x;
  for (int i = -20'000; i < 20'000; ++i) x.push_back(static_cast<float>(i) * 1e-3f);
  for (float special : {kInf, -kInf, kNaN}) x.push_back(special);
  return x;
}

// Within `ulps` of the reference, relative, plus `absolute`; equal infinities and NaN where the
// reference has them.
void check_close(const std::vector<float>& got, const std::vector<float>& want, float ulps,
                 const std::string& what, float absolute = 1e-7f) {
  REQUIRE(got.size() == want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool same_special = (std::isnan(want[i]) && std::isnan(got[i])) || got[i] == want[i];
    const float tolerance = ulps * 1.2e-7f * std::fabs(want[i]) + absolute;
    if (!same_special && !(std::fabs(got[i] - want[i]) <= tolerance) && ++bad <= 3)
      MESSAGE(what, " at element ", i, ": got ", got[i], ", scalar reference ", want[i]);
  }
  CHECK_MESSAGE(bad == 0, what, ": ", bad, " elements differ");
}

template <class F>
std::vector<float> scalar(const std::vector<float>& x, F f) {
  std::vector<float> y;
  for (float v : x) y.push_back(f(v));
  return y;
}

TEST_CASE("vector kernels: exp, tanh, sigmoid and GELU match cpu_math.h element by element") {
  const std::vector<float> x = sweep();
  const Tensor t = from_vector(x, {static_cast<int64_t>(x.size())});
  check_close(exp(t).to_vector<float>(), scalar(x, fast_exp), 4, "exp");
  check_close(tanh(t).to_vector<float>(), scalar(x, fast_tanh), 4, "tanh");
  check_close(sigmoid(t).to_vector<float>(), scalar(x, fast_sigmoid), 4, "sigmoid");
  check_close(gelu(t).to_vector<float>(),
              scalar(x, [](float v) { return v * normal_cdf_pdf(v).cdf; }), 4, "gelu");
}

TEST_CASE("vector kernels: the GELU and tanh derivatives match the scalar formulas") {
  std::vector<float> x = sweep();
  x.resize(x.size() - 3);  // finite inputs: the derivative at inf is inf * 0
  const Tensor t = from_vector(x, {static_cast<int64_t>(x.size())}).set_requires_grad();
  sum(gelu(t)).backward();
  check_close(t.grad().to_vector<float>(),
              scalar(x,
                     [](float v) {
                       const NormalCdfPdf normal = normal_cdf_pdf(v);
                       return normal.cdf + v * normal.pdf;
                     }),
              4, "gelu'", kCancelling);
  t.zero_grad();
  sum(tanh(t)).backward();
  check_close(t.grad().to_vector<float>(),
              scalar(x,
                     [](float v) {
                       const float y = fast_tanh(v);
                       return 1.0f - y * y;
                     }),
              4, "tanh'", kCancelling);
}

TEST_CASE("vector kernels: softmax rows match exp(x - max) / sum") {
  std::vector<float> x;
  for (int i = 0; i < 64 * 43; ++i) x.push_back(std::sin(0.37f * static_cast<float>(i)) * 9.0f);
  const std::vector<float> y = softmax(from_vector(x, {64, 43}), 1).to_vector<float>();
  std::vector<float> want(x.size());
  for (int r = 0; r < 64; ++r) {
    float max = -kInf, total = 0.0f;
    for (int j = 0; j < 43; ++j) max = std::max(max, x[r * 43 + j]);
    for (int j = 0; j < 43; ++j) total += want[r * 43 + j] = fast_exp(x[r * 43 + j] - max);
    for (int j = 0; j < 43; ++j) want[r * 43 + j] /= total;
  }
  check_close(y, want, 8, "softmax");
}

}  // namespace
}  // namespace tg
