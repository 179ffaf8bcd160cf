// softmax, log_softmax (with masks), layer_norm and dropout: forward values from the formula,
// gradcheck, the fused kernels against their unfused compositions, and every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "framework/tapegrad.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

bool all_finite(const std::vector<float>& values) {
  for (float v : values)
    if (!std::isfinite(v)) return false;
  return true;
}

Tensor random_leaf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

}  // namespace

// ---- softmax / log_softmax ----

TEST_CASE("softmax of (1, 2, 3) is exp / sum exp, and log_softmax its log") {
  const Tensor x = from_vector(std::vector<float>{1, 2, 3}, {3});
  const float total = std::exp(1.0f) + std::exp(2.0f) + std::exp(3.0f);
  const std::vector<float> want{std::exp(1.0f) / total, std::exp(2.0f) / total,
                                std::exp(3.0f) / total};
  check_close(softmax(x, 0).to_vector<float>(), want);
  check_close(log_softmax(x, -1).to_vector<float>(),
              {std::log(want[0]), std::log(want[1]), std::log(want[2])});
}

TEST_CASE("softmax is stable for huge logits and works along any dim") {
  const Tensor big = from_vector(std::vector<float>{1000, 1001, 1002}, {1, 3});
  const std::vector<float> y = softmax(big, 1).to_vector<float>();
  CHECK(all_finite(y));
  const float total = 1 + std::exp(1.0f) + std::exp(2.0f);
  check_close(y, {1 / total, std::exp(1.0f) / total, std::exp(2.0f) / total});
  check_close(log_softmax(big, 1).to_vector<float>(),
              {-std::log(total), 1 - std::log(total), 2 - std::log(total)});

  // Along dim 0 of a [2, 2]: each column is a pair (a, b) -> (e^a, e^b) / (e^a + e^b).
  const Tensor x = from_vector(std::vector<float>{0, 1, 2, 5}, {2, 2});
  const float c0 = 1 + std::exp(2.0f), c1 = std::exp(1.0f) + std::exp(5.0f);
  check_close(softmax(x, 0).to_vector<float>(),
              {1 / c0, std::exp(1.0f) / c1, std::exp(2.0f) / c0, std::exp(5.0f) / c1});
}

TEST_CASE("softmax and log_softmax pass gradcheck along every dim") {
  for (const int64_t dim : {0, 1, 2, -1}) {
    for (const bool log : {false, true}) {
      CAPTURE(dim);
      CAPTURE(log);
      auto f = [dim, log](const std::vector<Tensor>& in) {
        return log ? log_softmax(in[0], dim) : softmax(in[0], dim);
      };
      const GradcheckResult r = gradcheck(f, {random_leaf({2, 3, 4}, 11)});
      CHECK_MESSAGE(r.ok, r.report);
      if (dim < 2) {  // 2-D too: dims 0, 1 and -1
        const GradcheckResult r2 = gradcheck(f, {random_leaf({3, 5}, 12)});
        CHECK_MESSAGE(r2.ok, r2.report);
      }
    }
  }
}

// A key-padding style mask [2, 1, 4] over x [2, 3, 4]: batch 0 keeps columns 0, 1, 3, batch 1
// keeps nothing, so its three rows are fully masked.
TEST_CASE("masked softmax: masked entries and fully masked rows are zero, with zero gradient") {
  const Tensor mask = from_vector(std::vector<int32_t>{1, 1, 0, 1, 0, 0, 0, 0}, {2, 1, 4});
  const Tensor float_mask = mask.to(DType::Float32);
  for (const bool log : {false, true}) {
    CAPTURE(log);
    const Tensor x = random_leaf({2, 3, 4}, 21);
    const Tensor y = log ? log_softmax(x, -1, mask) : softmax(x, -1, mask);
    const std::vector<float> xs = x.to_vector<float>(), ys = y.to_vector<float>();
    CHECK(all_finite(ys));
    for (int row = 0; row < 3; ++row) {
      const float* xr = xs.data() + row * 4;
      const float total = std::exp(xr[0]) + std::exp(xr[1]) + std::exp(xr[3]);
      std::vector<float> want{std::exp(xr[0]) / total, std::exp(xr[1]) / total, 0,
                              std::exp(xr[3]) / total};
      if (log)
        for (int j : {0, 1, 3}) want[j] = std::log(want[j]);
      check_close({ys.begin() + row * 4, ys.begin() + row * 4 + 4}, want);
    }
    for (size_t i = 12; i < 24; ++i) CHECK(ys[i] == 0.0f);  // batch 1: every row masked
    // The float mask (nonzero = keep) gives the same result.
    const Tensor y_float = log ? log_softmax(x, -1, float_mask) : softmax(x, -1, float_mask);
    check_close(y_float.to_vector<float>(), ys, 0);

    Generator gen(5);
    (y * randn({2, 3, 4}, gen)).sum().backward();
    const std::vector<float> gx = x.grad().to_vector<float>();
    CHECK(all_finite(gx));
    for (int row = 0; row < 3; ++row) CHECK(gx[row * 4 + 2] == 0.0f);
    for (size_t i = 12; i < 24; ++i) CHECK(gx[i] == 0.0f);

    auto f = [&](const std::vector<Tensor>& in) {
      return log ? log_softmax(in[0], 2, mask) : softmax(in[0], 2, mask);
    };
    const GradcheckResult r = gradcheck(f, {random_leaf({2, 3, 4}, 22)});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("masked softmax along dim 0 with a mask broadcast over columns") {
  // mask [3, 1] over x [3, 4]: along dim 0 every column keeps rows 0 and 2.
  const Tensor mask = from_vector(std::vector<int32_t>{1, 0, 1}, {3, 1});
  const Tensor x = from_vector(std::vector<float>{0, 1, 2, 3, 9, 9, 9, 9, 1, 1, 0, 5}, {3, 4});
  const std::vector<float> y = softmax(x, 0, mask).to_vector<float>();
  const std::vector<float> top{0, 1, 2, 3}, bottom{1, 1, 0, 5};
  for (int c = 0; c < 4; ++c) {
    const float total = std::exp(top[c]) + std::exp(bottom[c]);
    CHECK(y[c] == doctest::Approx(std::exp(top[c]) / total));
    CHECK(y[4 + c] == 0.0f);
    CHECK(y[8 + c] == doctest::Approx(std::exp(bottom[c]) / total));
  }
  auto f = [&](const std::vector<Tensor>& in) { return log_softmax(in[0], 0, mask); };
  const GradcheckResult r = gradcheck(f, {random_leaf({3, 4}, 23)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("softmax errors name the op, what was expected and what came") {
  const Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(softmax(zeros({2, 3}, DType::Int32), 1),
                       doctest::Contains("softmax: expected a float32 tensor"), Error);
  CHECK_THROWS_WITH_AS(softmax(x, 2), doctest::Contains("softmax: dim 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(log_softmax(x, -3), doctest::Contains("log_softmax: dim -3"), Error);
  CHECK_THROWS_WITH_AS(softmax(scalar(1.0f), 0), doctest::Contains("softmax: needs at least"),
                       Error);
  CHECK_THROWS_WITH_AS(softmax(x, 1, ones({3, 1}, DType::Int32)),
                       doctest::Contains("softmax: mask of shape [3,1] does not broadcast to "
                                         "the input's shape [2,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(log_softmax(x, 1, ones({1, 2, 3})),
                       doctest::Contains("log_softmax: mask of shape [1,2,3]"), Error);
}

// ---- layer_norm ----

TEST_CASE("layer_norm matches (x - mean) / sqrt(var + eps) * weight + bias") {
  const std::vector<float> xs{1, 2, 3, 4, -1, 0, 0, 5};
  const Tensor x = from_vector(xs, {2, 4});
  const Tensor weight = from_vector(std::vector<float>{1, 2, 0.5f, -1}, {4});
  const Tensor bias = from_vector(std::vector<float>{0, 1, 0, 2}, {4});
  const float eps = 1e-5f;
  std::vector<float> plain, affine;
  for (int r = 0; r < 2; ++r) {
    float mean = 0, var = 0;
    for (int j = 0; j < 4; ++j) mean += xs[r * 4 + j] / 4;
    for (int j = 0; j < 4; ++j) var += (xs[r * 4 + j] - mean) * (xs[r * 4 + j] - mean) / 4;
    const std::vector<float> w{1, 2, 0.5f, -1}, b{0, 1, 0, 2};
    for (int j = 0; j < 4; ++j) {
      const float xhat = (xs[r * 4 + j] - mean) / std::sqrt(var + eps);
      plain.push_back(xhat);
      affine.push_back(xhat * w[j] + b[j]);
    }
  }
  check_close(layer_norm(x, {}, {}, eps).to_vector<float>(), plain);
  check_close(layer_norm(x, weight, bias, eps).to_vector<float>(), affine);
}

TEST_CASE("layer_norm passes gradcheck with and without weight and bias") {
  const Tensor w = random_leaf({5}, 31), b = random_leaf({5}, 32);
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 2, 5}}) {
    CAPTURE(to_string(shape));
    const Tensor x = random_leaf(shape, 33);
    auto both = [](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); };
    auto weight_only = [](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], {}); };
    auto bias_only = [](const std::vector<Tensor>& in) { return layer_norm(in[0], {}, in[1]); };
    auto neither = [](const std::vector<Tensor>& in) { return layer_norm(in[0], {}, {}); };
    GradcheckResult r = gradcheck(both, {x, w, b});
    CHECK_MESSAGE(r.ok, r.report);
    r = gradcheck(weight_only, {x, w});
    CHECK_MESSAGE(r.ok, r.report);
    r = gradcheck(bias_only, {x, b});
    CHECK_MESSAGE(r.ok, r.report);
    r = gradcheck(neither, {x});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("fused layer_norm matches the unfused composition, values and gradients") {
  const Tensor x = random_leaf({4, 6}, 41), w = random_leaf({6}, 42), b = random_leaf({6}, 43);
  Generator gen(44);
  const Tensor seed = randn({4, 6}, gen);

  layer_norm(x, w, b).backward(seed);
  const Tensor fused = layer_norm(x.detach(), w.detach(), b.detach());
  const std::vector<float> gx = x.grad().to_vector<float>(), gw = w.grad().to_vector<float>(),
                           gb = b.grad().to_vector<float>();
  x.zero_grad();
  w.zero_grad();
  b.zero_grad();

  const Tensor centred = x - mean(x, {-1}, true);
  const Tensor reference = centred / sqrt(var(x, {-1}, /*unbiased=*/false, true) + 1e-5f) * w + b;
  check_close(fused.to_vector<float>(), reference.to_vector<float>(), 1e-4f);
  reference.backward(seed);
  check_close(gx, x.grad().to_vector<float>(), 1e-3f);
  check_close(gw, w.grad().to_vector<float>(), 1e-4f);
  check_close(gb, b.grad().to_vector<float>(), 1e-5f);
}

// Big enough (>= kParallelThreshold elements) that the kernels split rows across threads, and
// layer_norm_backward sums its weight gradients from per-thread partials.
TEST_CASE("threaded softmax and layer_norm agree with their unfused compositions") {
  const Tensor x = random_leaf({192, 200}, 45);
  for (const int64_t dim : {0, 1}) {
    CAPTURE(dim);
    const Tensor shifted = exp(x - max(x, {dim}, true));
    const Tensor reference = shifted / sum(shifted, {dim}, true);
    check_close(softmax(x, dim).to_vector<float>(), reference.to_vector<float>(), 1e-4f);
  }
  const Tensor w = random_leaf({200}, 46), b = random_leaf({200}, 47);
  Generator gen(48);
  const Tensor seed = randn({192, 200}, gen);
  layer_norm(x, w, b).backward(seed);
  const std::vector<float> gx = x.grad().to_vector<float>(), gw = w.grad().to_vector<float>(),
                           gb = b.grad().to_vector<float>();
  x.zero_grad();
  w.zero_grad();
  b.zero_grad();
  const Tensor centred = x - mean(x, {-1}, true);
  (centred / sqrt(var(x, {-1}, false, true) + 1e-5f) * w + b).backward(seed);
  check_close(gx, x.grad().to_vector<float>(), 2e-3f);
  check_close(gw, w.grad().to_vector<float>(), 1e-3f);
  check_close(gb, b.grad().to_vector<float>(), 1e-4f);
}

TEST_CASE("layer_norm errors name the op, what was expected and what came") {
  const Tensor x = zeros({2, 4});
  CHECK_THROWS_WITH_AS(layer_norm(x, ones({3}), {}),
                       doctest::Contains("layer_norm: weight must have shape [4] (the input's "
                                         "last dim), got [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, {}, ones({1, 4})),
                       doctest::Contains("layer_norm: bias must have shape [4]"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 4}, DType::Int32), {}, {}),
                       doctest::Contains("layer_norm: expected a float32 tensor"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(scalar(1.0f), {}, {}),
                       doctest::Contains("layer_norm: input needs a last dim"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 0}), {}, {}),
                       doctest::Contains("layer_norm: input needs a last dim"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, {}, {}, -1.0f),
                       doctest::Contains("layer_norm: eps must be >= 0"), Error);
}

// ---- dropout ----

TEST_CASE("dropout is the identity in eval mode and for p = 0") {
  Generator gen(1);
  const Tensor x = random_leaf({3, 4}, 51);
  check_close(dropout(x, 0.5f, /*training=*/false, gen).to_vector<float>(), x.to_vector<float>(),
              0);
  check_close(dropout(x, 0.0f, /*training=*/true, gen).to_vector<float>(), x.to_vector<float>(), 0);
  CHECK(gen.offset() == 0);  // no random numbers were drawn
}

TEST_CASE("dropout zeroes a fraction p, scales the rest by 1/(1-p) and keeps the mean") {
  Generator gen(2);
  const float p = 0.3f;
  const int64_t n = 200000;
  const std::vector<float> y = dropout(ones({n}), p, /*training=*/true, gen).to_vector<float>();
  int64_t zeros_seen = 0, scaled_seen = 0;
  double total = 0;
  for (float v : y) {
    zeros_seen += v == 0.0f;
    scaled_seen += v == 1.0f / (1.0f - p);
    total += v;
  }
  CHECK(zeros_seen + scaled_seen == n);  // nothing but 0 and 1/(1-p)
  CHECK(static_cast<double>(zeros_seen) / n == doctest::Approx(p).epsilon(0.02));
  CHECK(total / n == doctest::Approx(1.0).epsilon(0.01));
  // A second call draws a different mask.
  CHECK(dropout(ones({n}), p, true, gen).to_vector<float>() != y);
}

TEST_CASE("dropout's gradient is its mask, and it passes gradcheck") {
  const Tensor x = random_leaf({4, 5}, 61);
  Generator gen(62);
  const Tensor y = dropout(x, 0.4f, /*training=*/true, gen);
  y.sum().backward();
  const std::vector<float> xs = x.to_vector<float>(), ys = y.to_vector<float>(),
                           gx = x.grad().to_vector<float>();
  for (size_t i = 0; i < xs.size(); ++i) CHECK(gx[i] == doctest::Approx(ys[i] / xs[i]));

  // gradcheck runs f many times: a fresh generator per call keeps the mask the same.
  auto f = [](const std::vector<Tensor>& in) {
    Generator same_mask(63);
    return dropout(in[0], 0.4f, /*training=*/true, same_mask);
  };
  const GradcheckResult r = gradcheck(f, {random_leaf({4, 5}, 64)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("dropout errors name the op, what was expected and what came") {
  Generator gen(3);
  const Tensor x = ones({2});
  CHECK_THROWS_WITH_AS(dropout(x, 1.0f, true, gen),
                       doctest::Contains("dropout: p must be in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1f, false, gen),
                       doctest::Contains("dropout: p must be in [0, 1)"), Error);
  CHECK_THROWS_WITH_AS(dropout(ones({2}, DType::Int32), 0.5f, true, gen),
                       doctest::Contains("dropout: expected a float32 tensor"), Error);
}
