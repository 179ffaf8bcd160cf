// The README's "write a new op" example, kept here so that it stays true.
#include <doctest/doctest.h>

#include <cmath>

#include "framework/tapegrad.h"

using namespace tg;

// softplus(x) = log(1 + e^x);   d/dx = sigmoid(x)
static Tensor softplus(const Tensor& x) {
  const Tensor y = [&] {
    NoGradGuard compute_only;  // the forward's pieces are not recorded...
    return log(exp(x) + 1.0f);
  }();
  return record("softplus", {x}, y, /*saved=*/{x},  // ...only the op, with its own backward
                [](const Saved& s, const Tensor& gy) -> Grads { return {gy * sigmoid(s[0])}; });
}

TEST_CASE("softplus: forward from the formula, backward by gradcheck, one tape record") {
  const Tensor x = from_vector({-2, 0, 3}, {3}).set_requires_grad();
  const auto values = softplus(x).to_vector<float>();
  CHECK(values[0] == doctest::Approx(std::log1p(std::exp(-2.0))));
  CHECK(values[1] == doctest::Approx(std::log(2.0)));
  CHECK(values[2] == doctest::Approx(std::log1p(std::exp(3.0))));
  CHECK(tape().size() == 1);
  tape().clear();

  Generator gen(1);
  const GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0]); },
                                      {randn({3, 4}, gen).set_requires_grad()});
  CHECK_MESSAGE(r.ok, r.report);
}
