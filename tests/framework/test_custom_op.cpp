// The README's "write a new op" example, kept here so that it stays true.
#include <doctest/doctest.h>

#include <cmath>

#include "framework/tapegrad.h"

using namespace tg;

// softsign(x) = x / (1 + |x|);   d/dx = 1 / (1 + |x|)^2
static Tensor softsign(const Tensor& x) {
  const Tensor y = [&] {
    NoGradGuard compute_only;  // the forward's pieces are not recorded...
    return x / (abs(x) + 1.0f);
  }();
  return record("softsign", {x}, y, /*saved=*/{x},  // ...only the op, with its own backward
                [](const Saved& s, const Tensor& gy) -> Grads {
                  const Tensor d = abs(s[0]) + 1.0f;
                  return {gy / (d * d)};
                });
}

TEST_CASE("softsign: forward from the formula, backward by gradcheck, one tape record") {
  const Tensor x = from_vector({-2, 0, 3}, {3}).set_requires_grad();
  const auto values = softsign(x).to_vector<float>();
  CHECK(values[0] == doctest::Approx(-2.0 / 3.0));
  CHECK(values[1] == 0.0f);
  CHECK(values[2] == doctest::Approx(0.75));
  CHECK(tape().size() == 1);
  tape().clear();

  Generator gen(1);
  const GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return softsign(in[0]); },
                                      {randn({3, 4}, gen).set_requires_grad()});
  CHECK_MESSAGE(r.ok, r.report);
}
