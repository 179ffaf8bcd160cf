// Initialisers: statistics on large tensors match each formula, orthogonal_ is orthogonal, and
// the same seed gives the same numbers.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_checks.h"
#include "layers/init.h"

using namespace tg;
using namespace tg::testing;

TEST_CASE("uniform_ and normal_ fill in place with the requested moments") {
  Generator gen(1);
  Tensor t = empty({200, 500});
  const Tensor alias = t;  // another handle to the same storage sees the fill
  init::uniform_(t, -2.0f, 3.0f, gen);
  Moments m = moments_of(alias);
  CHECK(m.min >= -2.0);
  CHECK(m.max < 3.0);
  CHECK(std::abs(m.mean - 0.5) < 0.02);
  CHECK(m.std == doctest::Approx(5.0 / std::sqrt(12.0)).epsilon(0.01));  // (b - a) / sqrt(12)

  init::normal_(t, 1.0f, 2.0f, gen);
  m = moments_of(t);
  CHECK(std::abs(m.mean - 1.0) < 0.03);
  CHECK(m.std == doctest::Approx(2.0).epsilon(0.01));
}

TEST_CASE("uniform_ and normal_ give the same numbers as tg::uniform / tg::randn") {
  Generator a(42), b(42);
  Tensor t = empty({3, 7});
  init::uniform_(t, -1.0f, 1.0f, a);
  check_close(t, uniform({3, 7}, -1.0f, 1.0f, b).to_vector<float>(), 0.0f);
  init::normal_(t, 0.0f, 1.0f, a);
  check_close(t, randn({3, 7}, b).to_vector<float>(), 0.0f);
  CHECK(a.offset() == b.offset());
}

TEST_CASE("same seed, same numbers, another seed, other numbers") {
  auto draw = [](uint64_t seed) {
    Generator gen(seed);
    Tensor t = empty({16, 8});
    init::xavier_uniform_(t, gen);
    init::orthogonal_(t, gen);
    return t.to_vector<float>();
  };
  CHECK(draw(7) == draw(7));
  CHECK(draw(7) != draw(8));
}

TEST_CASE("fans: (out, in) gives fan_in = in, extra dims multiply both by the receptive field") {
  CHECK(init::fans_of(empty({30, 20})).in == 20);
  CHECK(init::fans_of(empty({30, 20})).out == 30);
  CHECK(init::fans_of(empty({8, 4, 3})).in == 12);
  CHECK(init::fans_of(empty({8, 4, 3})).out == 24);
  Generator gen(0);
  Tensor bias = empty({5});
  CHECK_THROWS_WITH_AS(
      init::xavier_uniform_(bias, gen),
      doctest::Contains("need a tensor with at least 2 dims ([out, in, ...]), got [5]"), Error);
}

TEST_CASE(
    "xavier: bound gain * sqrt(6 / (fan_in + fan_out)), std gain * sqrt(2 / (fan_in + fan_out))") {
  Generator gen(3);
  Tensor w = empty({300, 200});
  init::xavier_uniform_(w, gen, 2.0f);
  const double bound = 2.0 * std::sqrt(6.0 / 500.0);
  Moments m = moments_of(w);
  CHECK(m.max <= bound);
  CHECK(m.min >= -bound);
  CHECK(m.max > 0.99 * bound);  // the bound is reached, not just respected
  CHECK(m.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));

  init::xavier_normal_(w, gen, 2.0f);
  m = moments_of(w);
  CHECK(std::abs(m.mean) < 0.01);
  CHECK(m.std == doctest::Approx(2.0 * std::sqrt(2.0 / 500.0)).epsilon(0.01));
}

TEST_CASE(
    "kaiming_uniform_ with a = sqrt(5) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), like torch's "
    "Linear") {
  Generator gen(4);
  Tensor w = empty({256, 400});
  init::kaiming_uniform_(w, gen);
  Moments m = moments_of(w);
  CHECK(m.max <= 0.05);
  CHECK(m.min >= -0.05);
  CHECK(m.max > 0.0499);
  CHECK(m.std == doctest::Approx(0.05 / std::sqrt(3.0)).epsilon(0.01));

  init::kaiming_uniform_(w, gen, 0.0f);  // gain sqrt(2): bound sqrt(6 / fan_in)
  m = moments_of(w);
  CHECK(m.max <= std::sqrt(6.0 / 400.0));
  CHECK(m.max > 0.99 * std::sqrt(6.0 / 400.0));
}

TEST_CASE("kaiming_normal_: std = sqrt(2 / (1 + a^2)) / sqrt(fan_in)") {
  Generator gen(5);
  Tensor w = empty({256, 400});
  init::kaiming_normal_(w, gen);
  CHECK(moments_of(w).std == doctest::Approx(std::sqrt(2.0 / 400.0)).epsilon(0.01));
  init::kaiming_normal_(w, gen, 1.0f);  // gain 1
  CHECK(moments_of(w).std == doctest::Approx(std::sqrt(1.0 / 400.0)).epsilon(0.01));
}

namespace {
// Gram matrix of the rows (rows_gram) or of the columns of a [rows, cols] matrix, in double.
std::vector<double> gram(const Tensor& w, bool of_rows) {
  const std::vector<float> v = w.to_vector<float>();
  const int64_t rows = w.size(0), cols = w.size(1);
  const int64_t n = of_rows ? rows : cols, len = of_rows ? cols : rows;
  auto at = [&](int64_t vec, int64_t i) { return of_rows ? v[vec * cols + i] : v[i * cols + vec]; };
  std::vector<double> g(static_cast<size_t>(n * n));
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < len; ++i) g[a * n + b] += double(at(a, i)) * at(b, i);
  return g;
}
void check_scaled_identity(const std::vector<double>& g, double diagonal) {
  const auto n = static_cast<int64_t>(std::sqrt(static_cast<double>(g.size())));
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) {
      INFO("entry (", a, ", ", b, ") = ", g[a * n + b]);
      CHECK(std::abs(g[a * n + b] - (a == b ? diagonal : 0.0)) < 1e-5);
    }
}
}  // namespace

TEST_CASE("orthogonal_: wide W W^T = I, tall W^T W = I, square both, gain scales by gain^2") {
  Generator gen(6);
  Tensor wide = empty({6, 10}), tall = empty({10, 6}), square = empty({32, 32});
  init::orthogonal_(wide, gen);
  init::orthogonal_(tall, gen);
  init::orthogonal_(square, gen, 2.0f);
  check_scaled_identity(gram(wide, /*of_rows=*/true), 1.0);
  check_scaled_identity(gram(tall, /*of_rows=*/false), 1.0);
  check_scaled_identity(gram(square, true), 4.0);
  check_scaled_identity(gram(square, false), 4.0);
  // Entries of a random orthogonal 32x32 have variance 1/32 (times gain^2): not a permutation.
  CHECK(moments_of(square).std == doctest::Approx(2.0 / std::sqrt(32.0)).epsilon(0.1));

  Tensor vector = empty({4});
  CHECK_THROWS_WITH_AS(
      init::orthogonal_(vector, gen),
      doctest::Contains(
          "init::orthogonal_: needs a non-empty tensor with at least 2 dims, got [4]"),
      Error);
}

TEST_CASE("zeros_, ones_, constant_, bad arguments name the initialiser") {
  Tensor t = empty({2, 3});
  init::ones_(t);
  check_close(t, std::vector<float>(6, 1.0f), 0.0f);
  init::zeros_(t);
  check_close(t, std::vector<float>(6, 0.0f), 0.0f);
  init::constant_(t, 2.5f);
  check_close(t, std::vector<float>(6, 2.5f), 0.0f);

  Generator gen(0);
  CHECK_THROWS_WITH_AS(init::uniform_(t, 1.0f, -1.0f, gen),
                       doctest::Contains("init::uniform_: low (1) must not exceed high (-1)"),
                       Error);
  Tensor ids = zeros({3}, DType::Int32);
  CHECK_THROWS_WITH_AS(init::normal_(ids, 0.0f, 1.0f, gen),
                       doctest::Contains("init::normal_: expected a float32 tensor, got int32 [3]"),
                       Error);
  Tensor undefined;
  CHECK_THROWS_WITH_AS(init::zeros_(undefined),
                       doctest::Contains("init::constant_: got an undefined tensor"), Error);
}
