// Local (windowed) attention and its banded products: values by hand, gradcheck, equality with
// full attention under the equivalent band mask (outputs and gradients, to 1e-5, with padding,
// causal and pair masks, and rows with every key masked), memory that grows with L w, and every
// error message.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::band_keep_mask;
using tg::testing::check_close;
using tg::testing::check_gradcheck;
using tg::testing::check_values;
using tg::testing::random_tensor;

namespace {

Tensor ints(const std::vector<int32_t>& values, const Shape& shape) {
  return from_vector(values, shape);
}

// The band of a [..., L, L] matrix as [..., L, 2w+1], 0 off the sequence (host loops).
std::vector<float> band_of(const Tensor& full, int64_t window) {
  const int64_t len = full.size(-1), band = 2 * window + 1, rows = full.numel() / len;
  const std::vector<float> values = full.to_vector<float>();
  std::vector<float> out(static_cast<size_t>(rows * band), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < band; ++t) {
      const int64_t i = r % len, j = i - window + t;
      if (j >= 0 && j < len) out[r * band + t] = values[r * len + j];
    }
  return out;
}

struct Grads3 {
  std::vector<float> q, k, v;
};

// Output, weights and the gradients of q, k, v for a weighted sum of the output.
template <class Attention>
std::pair<AttentionResult, Grads3> run(const Attention& attention, const Shape& qk_shape,
                                       const Shape& v_shape, uint64_t seed) {
  const Tensor q = random_tensor(qk_shape, seed, true), k = random_tensor(qk_shape, seed + 1, true);
  const Tensor v = random_tensor(v_shape, seed + 2, true);
  const AttentionResult r = attention(q, k, v);
  Shape out_shape = v_shape;
  (r.output * random_tensor(out_shape, seed + 3)).sum().backward();
  return {r,
          {q.grad().to_vector<float>(), k.grad().to_vector<float>(), v.grad().to_vector<float>()}};
}

// local_attention against full attention under the equivalent mask, outputs, weights and
// gradients to 1e-5. `mask` is what both get; the full path also gets the band (and causal).
void check_equals_full(const AttentionMask& mask, int64_t window, bool causal,
                       const Shape& qk_shape, const Shape& v_shape, uint64_t seed) {
  const int64_t len = qk_shape[qk_shape.size() - 2];
  const auto [local, local_grads] =
      run([&](const Tensor& q, const Tensor& k,
              const Tensor& v) { return local_attention(q, k, v, window, mask, causal); },
          qk_shape, v_shape, seed);
  const auto [reference, full_grads] = run(
      [&](const Tensor& q, const Tensor& k, const Tensor& v) {
        const Shape scores_shape = [&] {
          Shape s = qk_shape;
          s.back() = len;
          return s;
        }();
        Tensor keep = band_keep_mask(len, window, causal);
        const Tensor user = mask.keep_mask(static_cast<int64_t>(scores_shape.size()), len);
        if (user.defined()) keep = keep * ne(user, full({}, 0.0f, user.dtype()));
        return scaled_dot_product_attention(q, k, v, AttentionMask::keep(keep));
      },
      qk_shape, v_shape, seed);
  CHECK(all_finite(local.output));
  check_close(local.output.to_vector<float>(), reference.output.to_vector<float>());
  check_close(local.weights.to_vector<float>(), band_of(reference.weights, window));
  check_close(local_grads.q, full_grads.q);
  check_close(local_grads.k, full_grads.k);
  check_close(local_grads.v, full_grads.v);
}

}  // namespace

// ---- the banded products ----

TEST_CASE("band_dot computes a b^T on the band by hand, zero off the sequence") {
  // L = 3, d = 1, w = 1: s[i, t] = a_i b_{i-1+t}
  const Tensor a = from_vector({1, 2, 3}, {3, 1}), b = from_vector({4, 5, 6}, {3, 1});
  check_values(band_dot(a, b, 1), {0, 4, 5, 8, 10, 12, 15, 18, 0});
  // w = 0: the diagonal only.
  check_values(band_dot(a, b, 0), {4, 10, 18});
}

TEST_CASE("band_weighted_sum computes P v on the band by hand, ignoring entries off the sequence") {
  // L = 3, d = 2, w = 1: o_i = sum_t p[i, t] v_{i-1+t}; the entries off the sequence are 100.
  const Tensor p = from_vector({100, 1, 2, 3, 4, 5, 6, 7, 100}, {3, 3});
  const Tensor v = from_vector({1, 10, 2, 20, 3, 30}, {3, 2});
  // o_0 = 1 v_0 + 2 v_1; o_1 = 3 v_0 + 4 v_1 + 5 v_2; o_2 = 6 v_1 + 7 v_2
  check_values(band_weighted_sum(p, v, 1), {5, 50, 26, 260, 33, 330});
}

TEST_CASE("gradcheck: band_dot and band_weighted_sum, windows inside and wider than the sequence") {
  for (int64_t window : {0, 1, 2, 6}) {
    INFO("window ", window);
    check_gradcheck([&](const std::vector<Tensor>& in) { return band_dot(in[0], in[1], window); },
                    {random_tensor({2, 5, 3}, 1, true), random_tensor({2, 5, 3}, 2, true)});
    check_gradcheck(
        [&](const std::vector<Tensor>& in) { return band_weighted_sum(in[0], in[1], window); },
        {random_tensor({2, 5, 2 * window + 1}, 3, true), random_tensor({2, 5, 3}, 4, true)});
  }
}

TEST_CASE("window_mask keeps the keys within +-window of each query, by hand") {
  // L = 4, w = 1: a band of three diagonals.
  check_values(window_mask(4, 1), {1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1});
  check_values(window_mask(3, 0), {1, 0, 0, 0, 1, 0, 0, 0, 1});
  check_values(window_mask(2, 5), {1, 1, 1, 1});
  CHECK(window_mask(0, 2).numel() == 0);
  CHECK_THROWS_WITH_AS(window_mask(3, -1), "window_mask: window must be >= 0, got -1", tg::Error);
  CHECK_THROWS_WITH_AS(window_mask(-1, 1), "window_mask: len must be >= 0, got -1", tg::Error);
}

// ---- local attention against full attention ----

TEST_CASE("local_attention equals full attention with the band mask: no mask, causal") {
  for (bool causal : {false, true})
    for (int64_t window : {0, 1, 3, 9}) {
      INFO("causal ", causal, " window ", window);
      check_equals_full({}, window, causal, {2, 3, 7, 4}, {2, 3, 7, 5}, 10 + window);
    }
}

TEST_CASE("local_attention equals full attention with the band mask: padding and causal") {
  const Tensor lens = ints({7, 4, 0}, {3});  // batch 2: every key masked
  for (bool causal : {false, true}) {
    INFO("causal ", causal);
    check_equals_full(lens, 2, causal, {3, 2, 7, 4}, {3, 2, 7, 3}, 20);
    // The same padding as PyTorch's key_padding_mask (True = masked out), [B, 1, 1, L].
    const Tensor pad = eq(key_padding_mask(lens, 7), full({}, 0.0f, DType::Int32));
    check_equals_full(AttentionMask::exclude(pad), 2, causal, {3, 2, 7, 4}, {3, 2, 7, 3}, 30);
  }
}

TEST_CASE("local_attention equals full attention with a pair mask, read on the band only") {
  // A random keep-mask [L, L], float, with some query rows kept nowhere in their band.
  Generator gen(5);
  const Tensor pairs = gt(uniform({6, 6}, 0.0f, 1.0f, gen), scalar(0.5f)).to(DType::Float32);
  check_equals_full(AttentionMask::keep(pairs), 1, false, {2, 6, 3}, {2, 6, 2}, 40);
  check_equals_full(AttentionMask::keep(pairs), 2, true, {2, 6, 3}, {2, 6, 2}, 50);
}

TEST_CASE("local_attention: rows with every key masked give zero output and gradients, no NaN") {
  const Tensor q = random_tensor({2, 5, 3}, 60, true), k = random_tensor({2, 5, 3}, 61, true);
  const Tensor v = random_tensor({2, 5, 2}, 62, true);
  const AttentionResult r = local_attention(q, k, v, 1, ints({0, 5}, {2}));
  const std::vector<float> out = r.output.to_vector<float>();
  for (int i = 0; i < 10; ++i) CHECK(out[i] == 0.0f);  // batch 0: no key
  CHECK(out[10] != 0.0f);
  (r.output * random_tensor({2, 5, 2}, 63)).sum().backward();
  for (const Tensor* t : {&q, &k, &v}) {
    CHECK(all_finite(t->grad()));
    const std::vector<float> g = t->grad().to_vector<float>();
    for (size_t i = 0; i < g.size() / 2; ++i) CHECK(g[i] == 0.0f);
  }
}

TEST_CASE("gradcheck: local_attention with padding, causal, both, and a window past the ends") {
  const Tensor lens = ints({4, 2}, {2});
  for (bool causal : {false, true})
    for (bool padded : {false, true})
      for (int64_t window : {1, 5}) {
        INFO("causal ", causal, " padded ", padded, " window ", window);
        const AttentionMask mask = padded ? AttentionMask(lens) : AttentionMask();
        check_gradcheck(
            [&](const std::vector<Tensor>& in) {
              return local_attention(in[0], in[1], in[2], window, mask, causal).output;
            },
            {random_tensor({2, 4, 3}, 70, true), random_tensor({2, 4, 3}, 71, true),
             random_tensor({2, 4, 2}, 72, true)});
      }
}

TEST_CASE("local_attention keeps memory linear in L: no [L, L] tensor in forward or backward") {
  // N = 1, L = 4096, d = 4, w = 4: a single [L, L] float would be 64 MiB; the band is 144 KiB.
  const int64_t len = 4096;
  const Tensor q = random_tensor({1, len, 4}, 80, true), k = random_tensor({1, len, 4}, 81, true);
  const Tensor v = random_tensor({1, len, 4}, 82, true);
  cpu_reset_peaks();
  const size_t before = cpu_allocator_stats().in_use_bytes;
  const AttentionResult r = local_attention(q, k, v, 4, {}, true);
  (r.output * r.output).sum().backward();
  const size_t peak = cpu_allocator_stats().peak_in_use_bytes - before;
  CHECK(peak > static_cast<size_t>(len * 9 * 4));  // it did allocate the band
  CHECK(peak < static_cast<size_t>(4) << 20);      // far below one [L, L] (64 MiB)
}

TEST_CASE("local_attention: dropout acts on the band only in training, weights before dropout") {
  const Tensor q = random_tensor({1, 6, 3}, 100), k = random_tensor({1, 6, 3}, 101);
  const Tensor v = random_tensor({1, 6, 2}, 102);
  const AttentionResult plain = local_attention(q, k, v, 2);
  const AttentionResult evaluating = local_attention(q, k, v, 2, {}, false, 0.5f, false);
  check_close(evaluating.output.to_vector<float>(), plain.output.to_vector<float>());
  Generator gen(103);
  const AttentionResult training = local_attention(q, k, v, 2, {}, false, 0.5f, true, gen);
  check_close(training.weights.to_vector<float>(), plain.weights.to_vector<float>());
  CHECK(all_finite(training.output));
  CHECK(sum(abs(training.output - plain.output)).item() > 1e-3f);
}

// ---- errors ----

TEST_CASE("local_attention and the banded products reject bad input with a message") {
  const Tensor q = random_tensor({2, 5, 3}, 90), v = random_tensor({2, 5, 2}, 91);
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(message([&] {
          local_attention(q, random_tensor({2, 4, 3}, 92), v, 1);
        })
            .find("local_attention: the window is centred on each query's own position, so queries "
                  "and keys must be one sequence (self-attention, Lq == Lk); got q [2,5,3] and k "
                  "[2,4,3]") == 0);
  CHECK(message([&] { local_attention(q, q, v, -1); }) ==
        "local_attention: window must be >= 0, got -1");
  CHECK(message([&] {
          local_attention(q, q, random_tensor({2, 4, 2}, 93), 1);
        }) ==
        "local_attention: v must be [..., L, dv] with q's leading dims and L, got q [2,5,3] and v "
        "[2,4,2]");
  CHECK(message([&] {
          local_attention(q, random_tensor({2, 5, 4}, 94), v, 1);
        }) ==
        "local_attention: q and k must have the same shape [..., L, d], got q [2,5,3] and k "
        "[2,5,4]");
  CHECK(message([&] {
          local_attention(q, q, v, 1, AttentionMask::keep(ones({3, 5})));
        })
            .find("local_attention: mask of shape [3,5] does not broadcast to the scores' shape "
                  "[2,5,5]") == 0);
  CHECK(message([&] { local_attention(q, q, v, 1, {}, false, 1.0f); }) ==
        "local_attention: dropout must be in [0, 1), got 1");
  CHECK(message([&] {
          band_dot(q, random_tensor({2, 5, 4}, 95), 1);
        }) == "band_dot: a and b must have the same shape [..., L, d], got [2,5,3] and [2,5,4]");
  CHECK(message([&] {
          band_weighted_sum(random_tensor({2, 5, 2}, 96), v, 1);
        }) ==
        "band_weighted_sum: weights must be [..., L, 2w+1] = [2,5,3] for v of shape [2,5,2] and "
        "window 1, got [2,5,2]");
  CHECK(message([&] { band_dot(q, q, -2); }) == "band_dot: window must be >= 0, got -2");
}
