// Gradient clipping: the global norm by hand, the rescaling, no-ops below the limit, skipped
// parameters, non-finite norms reported and never applied, value clipping, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "optim/optim.h"
#include "optim_test_helpers.h"

using namespace tg;
using optim_test::check_close;
using optim_test::parameter;
using optim_test::set_grad;

TEST_CASE("clip_grad_norm returns the global L2 norm and rescales every gradient by one factor") {
  Tensor a = parameter({3.0f, 0.0f}), b = parameter({0.0f, 0.0f, 4.0f});
  set_grad(a, {3.0f, 0.0f});
  set_grad(b, {0.0f, 0.0f, 4.0f});  // norm sqrt(9 + 16) = 5
  const double norm = clip_grad_norm({a, b}, 1.0);
  CHECK(norm == doctest::Approx(5.0));
  const double factor = 1.0 / (5.0 + 1e-6);
  check_close(a.grad().to_vector<float>(), {3.0 * factor, 0.0});
  check_close(b.grad().to_vector<float>(), {0.0, 0.0, 4.0 * factor});
  CHECK(clip_grad_norm({a, b}, 10.0) == doctest::Approx(1.0).epsilon(1e-5));  // now ~1
}

TEST_CASE("clip_grad_norm leaves gradients below the limit untouched and skips missing ones") {
  Tensor a = parameter({1.0f, 1.0f}), no_grad = parameter({1.0f});
  set_grad(a, {0.6f, 0.8f});
  CHECK(clip_grad_norm({a, no_grad}, 2.0) == doctest::Approx(1.0));
  check_close(a.grad().to_vector<float>(), {0.6, 0.8});
  CHECK_FALSE(no_grad.grad().defined());
  CHECK(clip_grad_norm({no_grad}, 1.0) == 0.0);
}

TEST_CASE("a non-finite norm is reported, and the gradients are left as they were") {
  Tensor a = parameter({1.0f}), b = parameter({1.0f, 1.0f});
  set_grad(a, {0.5f});
  set_grad(b, {1.0f, std::numeric_limits<float>::infinity()});
  CHECK_THROWS_WITH_AS(clip_grad_norm(NamedTensors{{"fc.weight", a}, {"fc.bias", b}}, 1.0),
                       doctest::Contains("clip_grad_norm: the total gradient norm is inf (first "
                                         "parameter whose squared norm is not finite: 'fc.bias')"),
                       Error);
  CHECK(a.grad().item() == 0.5f);
  const double norm = clip_grad_norm({a, b}, 1.0, /*error_if_nonfinite=*/false);
  CHECK(std::isinf(norm));
  CHECK(a.grad().item() == 0.5f);
  CHECK(b.grad().to_vector<float>()[0] == 1.0f);

  set_grad(b, {1.0f, std::nanf("")});
  CHECK(std::isnan(clip_grad_norm({a, b}, 1.0, false)));
  CHECK(a.grad().item() == 0.5f);
  CHECK_THROWS_WITH_AS(clip_grad_norm({a, b}, 1.0),
                       doctest::Contains("norm is nan (first parameter whose squared norm is not "
                                         "finite: 'parameter 1')"),
                       Error);
}

TEST_CASE("clip_grad_norm then a step: the update is the clipped one") {
  Tensor p = parameter({0.0f, 0.0f});
  SGD opt({p}, {.lr = 1.0});
  set_grad(p, {30.0f, 40.0f});
  clip_grad_norm({p}, 5.0);
  opt.step();
  check_close(p.to_vector<float>(), {-3.0, -4.0}, 1e-6);
}

TEST_CASE("clip_grad_value clamps every element into (-v, v)") {
  Tensor a = parameter({0, 0, 0, 0}), b = parameter({0.0f});
  set_grad(a, {-3.0f, -0.5f, 0.5f, 3.0f});
  clip_grad_value({a, b}, 1.0);
  check_close(a.grad().to_vector<float>(), {-1.0, -0.5, 0.5, 1.0});
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("clipping errors name the argument") {
  Tensor a = parameter({1.0f});
  CHECK_THROWS_WITH_AS(clip_grad_norm({a}, 0.0),
                       doctest::Contains("clip_grad_norm: max_norm must be > 0, got 0"), Error);
  CHECK_THROWS_WITH_AS(clip_grad_value({a}, -1.0),
                       doctest::Contains("clip_grad_value: clip_value must be > 0, got -1"), Error);
}
