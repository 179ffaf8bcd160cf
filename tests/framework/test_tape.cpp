#include <doctest/doctest.h>

#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::check_values;

TEST_CASE("backward through a small expression matches the derivative by hand") {
  // f(x, y) = sum(x * y + x^2): df/dx = y + 2x, df/dy = x
  Tensor x = from_vector({1, 2, 3}, {3}).set_requires_grad();
  Tensor y = from_vector({4, 5, 6}, {3}).set_requires_grad();
  const Tensor f = sum(x * y + x * x);
  CHECK(f.item() == 1 * 4 + 2 * 5 + 3 * 6 + 1 + 4 + 9);
  f.backward();
  check_values(x.grad(), {6, 9, 12});
  check_values(y.grad(), {1, 2, 3});
}

TEST_CASE("gradients accumulate across backward calls until zero_grad") {
  Tensor x = from_vector({2}, {1}).set_requires_grad();
  sum(x * x).backward();
  sum(x * x).backward();
  check_values(x.grad(), {8});  // 2 * (2x)
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  sum(x * 3.0f).backward();
  check_values(x.grad(), {3});
}

TEST_CASE("a gradient of the wrong shape put there by set_grad is refused, not overrun") {
  Tensor x = from_vector({1, 2, 3}, {3}).set_requires_grad();
  x.set_grad(zeros({2}));
  CHECK_THROWS_WITH_AS(
      sum(x * 2.0f).backward(),
      doctest::Contains(
          "backward: a leaf of shape [3] holds a gradient of float32 [2] on cpu "
          "(set with set_grad?); expected float32 [3] on cpu: call zero_grad() first"),
      Error);
  tape().clear();
  x.zero_grad();
  sum(x * 2.0f).backward();
  check_values(x.grad(), {2, 2, 2});
}

TEST_CASE("accumulate_product_into_leaf stores, then adds, op(A) op(B) into a leaf's gradient") {
  Tensor w = zeros({2, 3}).set_requires_grad();
  const Tensor a = from_vector({1, 2, 3, 4}, {2, 2});        // rows [1 2], [3 4]
  const Tensor b = from_vector({1, 0, 1, 0, 1, 1}, {2, 3});  // rows [1 0 1], [0 1 1]
  accumulate_product_into_leaf(w, a, b, false, false);       // the first gradient: A B
  check_values(w.grad(), {1, 2, 3, 3, 4, 7});
  accumulate_product_into_leaf(w, a, b, /*trans_a=*/true, false);  // + A^T B
  check_values(w.grad(), {1 + 1, 2 + 3, 3 + 4, 3 + 2, 4 + 4, 7 + 6});
  CHECK_THROWS_WITH_AS(accumulate_product_into_leaf(w, a, a, false, false),
                       doctest::Contains("accumulate_product_into_leaf: [2,2] x [2,2] does not "
                                         "make the leaf's shape [2,3]"),
                       Error);
}

TEST_CASE("a leaf's gradient does not alias another's (add returns gy for both inputs)") {
  Tensor a = from_vector({1, 1}, {2}).set_requires_grad();
  Tensor b = from_vector({1, 1}, {2}).set_requires_grad();
  sum(a + b).backward();
  a.grad().data<float>()[0] = 100;  // an in-place update of one gradient (as clipping does)
  CHECK(b.grad().to_vector<float>()[0] == 1.0f);
}

TEST_CASE("backward with a seed gradient, and the errors around backward") {
  Tensor x = from_vector({1, 2}, {2}).set_requires_grad();
  const Tensor y = x * 3.0f;
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("backward: called on a tensor of shape [2]"),
                       Error);
  y.backward(from_vector({1, 10}, {2}));
  check_values(x.grad(), {3, 30});
  CHECK_THROWS_WITH_AS(y.backward(from_vector({1, 1}, {2})),
                       doctest::Contains("already consumed by an earlier backward()"), Error);
  const Tensor z = x * 2.0f;
  CHECK_THROWS_WITH_AS(z.backward(ones({3})), doctest::Contains("seed gradient has shape [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(sum(ones({2})).backward(), doctest::Contains("does not require grad"),
                       Error);
  tape().clear();
}

TEST_CASE("NoGradGuard records nothing, detach cuts the graph") {
  Tensor x = from_vector({1, 2}, {2}).set_requires_grad();
  {
    NoGradGuard no_grad;
    const Tensor y = x * 2.0f;
    CHECK_FALSE(y.requires_grad());
    CHECK(tape().size() == 0);
  }
  const Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  const Tensor y = sum(x * d);  // d is a constant: dy/dx = d
  y.backward();
  check_values(x.grad(), {1, 2});
}

TEST_CASE("the tape is cleared after backward and frees what it saved") {
  Tensor x = from_vector({1, 2}, {2}).set_requires_grad();
  const Tensor y = sum(tanh(x));
  CHECK(tape().size() == 2);
  const std::string dump = tape().dump();
  CHECK(dump.find("tanh([2]) -> [2]  saves 8 bytes") != std::string::npos);
  CHECK(dump.find("sum([2]) -> []") != std::string::npos);
  y.backward();
  CHECK(tape().size() == 0);
}

TEST_CASE("a record kept for reuse by clear() lets go of the tensors it held") {
  // The tape recycles its records (no allocation per op once warm): clear() must still drop
  // every tensor they held, or a dropped model's memory would live on in the tape.
  Tensor x = from_vector({1, 2}, {2}).set_requires_grad();
  std::weak_ptr<TensorImpl> saved, leaf;
  {
    const Tensor y = tanh(x);  // tanh saves y
    saved = y.impl();
    Tensor w = from_vector({3}, {1}).set_requires_grad();
    leaf = w.impl();
    (void)sum(y * w);
  }
  CHECK_FALSE(saved.expired());
  CHECK_FALSE(leaf.expired());
  tape().clear();
  CHECK(saved.expired());
  CHECK(leaf.expired());
  // The same records serve the next generation, with its own inputs and shapes.
  const Tensor f = sum(x * from_vector({5}, {1}));
  CHECK(tape().dump().find("mul([2], [1]) -> [2]") != std::string::npos);
  f.backward();
  check_values(x.grad(), {5, 5});
}

TEST_CASE("set_requires_grad is for float leaves") {
  CHECK_THROWS_WITH_AS(arange(3).set_requires_grad(),
                       doctest::Contains("only float32 tensors can require gradients"), Error);
  Tensor x = ones({2}).set_requires_grad();
  Tensor y = x * 2.0f;
  CHECK_THROWS_WITH_AS(y.set_requires_grad(false), doctest::Contains("only leaf tensors"), Error);
  tape().clear();
}

TEST_CASE("a tensor used twice gets both gradients summed, unused branches cost nothing") {
  Tensor x = from_vector({3}, {1}).set_requires_grad();
  const Tensor unused = exp(x);     // recorded but never reaches the loss
  const Tensor y = sum(x * x * x);  // 3x^2 = 27
  y.backward();
  check_values(x.grad(), {27});
  CHECK(unused.requires_grad());
}

// The engine adds an intermediate's later gradients into its first in place when that sum is
// its own. add's backward hands the same gy to both inputs, so here h's first gradient is also
// u's (in one order; in the other h has one already): adding into it in place would change u's.
TEST_CASE("an intermediate used by several ops sums its gradients, shared ones left unchanged") {
  for (bool add_last : {false, true}) {
    Tensor x = from_vector({1, 2}, {2}).set_requires_grad();
    Tensor w = from_vector({5, 6}, {2}).set_requires_grad();
    const Tensor k1 = from_vector({1, 10}, {2}), k2 = from_vector({100, 1000}, {2}),
                 k3 = from_vector({3, 7}, {2});
    const Tensor h = x * 2.0f, u = w * 3.0f;
    // d/dh = k1 (through h + u) + k2 + k3; d/du = k1, so d/dw = 3 k1; d/dx = 2 d/dh.
    const Tensor loss = add_last ? sum(h * k2) + sum(h * k3) + sum((h + u) * k1)
                                 : sum((h + u) * k1) + sum(h * k2) + sum(h * k3);
    loss.backward();
    // check_values CHECKs every element. add returns one gy for both h and u: had the engine
    // added h's later gradients into that shared tensor in place, u's gradient, and so w's,
    // would carry parts of k2 and k3 too.
    check_values(w.grad(), {3, 30});
    check_values(x.grad(), {2 * (1 + 100 + 3), 2 * (10 + 1000 + 7)});
  }
}

TEST_CASE("gradcheck reports a wrong backward") {
  // An op with a deliberately wrong derivative: y = x^2 with backward gy * x (should be 2x).
  auto wrong_square = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor y = x.detach() * x.detach();
    return record("wrong_square", {x}, y, {x},
                  [](const Saved& s, const Tensor& gy) -> Grads { return {gy * s[0]}; });
  };
  const GradcheckResult result =
      gradcheck(wrong_square, {from_vector({1, 2}, {2}).set_requires_grad()});
  CHECK_FALSE(result.ok);
  CHECK(result.report.find("gradcheck FAILED") != std::string::npos);
  CHECK(result.report.find("analytic") != std::string::npos);
}

TEST_CASE("reusing an intermediate after backward throws, naming the op and detach") {
  // h = 3w; sum(h).backward(); sum(h * h).backward() would lose dh/dw silently (the records
  // from w to h are gone): PyTorch's "backward through the graph a second time".
  Tensor w = from_vector({1, 2}, {2}).set_requires_grad();
  const Tensor h = w * 3.0f;
  sum(h).backward();
  check_values(w.grad(), {3, 3});
  CHECK_THROWS_WITH_AS((void)(h * h),
                       doctest::Contains("mul: input 0 [2] was computed before an "
                                         "earlier backward()"),
                       Error);
  CHECK_THROWS_WITH_AS((void)sum(h), doctest::Contains("call .detach() on it"), Error);
  CHECK(tape().size() == 0);  // nothing was recorded by the refused ops
  // The ways out: detach (a constant, as an RNN state carried across batches), or recompute.
  const Tensor carried = h.detach();
  sum(carried * w).backward();
  check_values(w.grad(), {3 + 3, 3 + 6});
  w.zero_grad();
  const Tensor again = w * 3.0f;
  sum(again * again).backward();  // d/dw (3w)^2 = 18 w
  check_values(w.grad(), {18, 36});
}

TEST_CASE("the tape warns once when it grows past its documented limit without backward") {
  Tensor x = from_vector({1}, {1}).set_requires_grad();
  const size_t warnings_before = tape().growth_warnings();
  Tensor y = x;
  for (size_t i = 0; i + 1 < Tape::kGrowthWarningRecords; ++i) y = y + 1.0f;
  CHECK(tape().growth_warnings() == warnings_before);
  y = y + 1.0f;  // the limit itself
  CHECK(tape().growth_warnings() == warnings_before + 1);
  y = y + 1.0f;  // past it: no second warning
  CHECK(tape().growth_warnings() == warnings_before + 1);
  CHECK(tape().size() == Tape::kGrowthWarningRecords + 1);
  y.backward();
  check_values(x.grad(), {1});
  CHECK(tape().size() == 0);
}
