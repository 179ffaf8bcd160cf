// multi_head_attention, the heads side by side and one fused kernel: equal to splitting the
// heads, scaled_dot_product_attention and merging them (outputs, weights and the gradients of
// q, k and v, to 1e-5) under every shape of mask, with rows that have every key masked and with
// a loss on the weights too; the CPU's fused kernel equal to the backends' composed default (what
// a device without a kernel of its own runs), with and without a dropout mask; gradcheck through
// both outputs; attention dropout in the kernel equal to the composition's from the same
// generator; the path that runs the composition (no keys); and every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/tapegrad.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::check_close;
using tg::testing::check_gradcheck;
using tg::testing::random_tensor;

namespace {

struct Sizes {
  int64_t batch = 3, query_len = 5, key_len = 4, heads = 2, d = 4, dv = 3;
};

// The reference: the heads split into a batch dim by reshape + permute, attention per head,
// merged back; written here from the ops, independently of the op under test.
AttentionResult split_attend_merge(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads,
                                   const AttentionMask& mask) {
  auto split = [heads](const Tensor& x) {
    return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).permute({0, 2, 1, 3});
  };
  const AttentionResult r = scaled_dot_product_attention(split(q), split(k), split(v), mask);
  return {r.output.permute({0, 2, 1, 3}).reshape({q.size(0), q.size(1), v.size(2)}), r.weights};
}

struct Outcome {
  std::vector<float> output, weights, grad_q, grad_k, grad_v;
};

// Runs attention on seeded q, k, v and back-propagates a random weighting of the output (and,
// with loss_on_weights, of the weights as well).
template <class Attention>
Outcome run(const Attention& attention, const Sizes& n, uint64_t seed, bool loss_on_weights) {
  const Tensor q = random_tensor({n.batch, n.query_len, n.heads * n.d}, seed, true);
  const Tensor k = random_tensor({n.batch, n.key_len, n.heads * n.d}, seed + 1, true);
  const Tensor v = random_tensor({n.batch, n.key_len, n.heads * n.dv}, seed + 2, true);
  const AttentionResult r = attention(q, k, v);
  Tensor loss = (r.output * random_tensor(r.output.shape(), seed + 3)).sum();
  if (loss_on_weights) loss = loss + (r.weights * random_tensor(r.weights.shape(), seed + 4)).sum();
  loss.backward();
  return {r.output.to_vector<float>(), r.weights.to_vector<float>(), q.grad().to_vector<float>(),
          k.grad().to_vector<float>(), v.grad().to_vector<float>()};
}

void check_equals_reference(const AttentionMask& mask, const Sizes& n, uint64_t seed) {
  for (bool loss_on_weights : {false, true}) {
    INFO("loss on the weights too: ", loss_on_weights);
    const Outcome fused =
        run([&](const Tensor& q, const Tensor& k,
                const Tensor& v) { return multi_head_attention(q, k, v, n.heads, mask); },
            n, seed, loss_on_weights);
    const Outcome reference =
        run([&](const Tensor& q, const Tensor& k,
                const Tensor& v) { return split_attend_merge(q, k, v, n.heads, mask); },
            n, seed, loss_on_weights);
    check_close(fused.output, reference.output);
    check_close(fused.weights, reference.weights);
    check_close(fused.grad_q, reference.grad_q);
    check_close(fused.grad_k, reference.grad_k);
    check_close(fused.grad_v, reference.grad_v);
  }
}

Tensor ints(const std::vector<int32_t>& values, const Shape& shape) {
  return from_vector(values, shape);
}

// 0/1 values drawn from a seed, as Int32 of the given shape.
Tensor random_keep(const Shape& shape, uint64_t seed) {
  return gt(random_tensor(shape, seed), scalar(-0.3f));
}

}  // namespace

TEST_CASE("multi_head_attention equals split heads + attention + merge, without a mask") {
  check_equals_reference({}, Sizes{}, 10);
  check_equals_reference({}, Sizes{2, 1, 6, 4, 8, 8}, 20);    // one query (a decoding step)
  check_equals_reference({}, Sizes{2, 7, 7, 1, 16, 16}, 30);  // one head
  // A key length over 32 and d = 32: tiles of whole and of partial columns in every product.
  check_equals_reference({}, Sizes{2, 40, 36, 2, 32, 32}, 40);
}

TEST_CASE("multi_head_attention equals the reference under every shape of mask") {
  const Sizes n;  // B 3, Lq 5, Lk 4, 2 heads
  SUBCASE("valid lengths, one of them 0 (every key masked: zero weights, zero output)") {
    check_equals_reference(AttentionMask::valid_lengths(ints({4, 2, 0}, {3})), n, 50);
    const AttentionResult r =
        multi_head_attention(random_tensor({3, 5, 8}, 1), random_tensor({3, 4, 8}, 2),
                             random_tensor({3, 4, 6}, 3), 2, ints({4, 2, 0}, {3}));
    CHECK(sum(abs(narrow(r.output, 0, 2, 1))).item() == 0.0f);
    CHECK(sum(abs(narrow(r.weights, 0, 2, 1))).item() == 0.0f);
  }
  SUBCASE("a key padding keep-mask [B, 1, 1, Lk]") {
    check_equals_reference(AttentionMask::keep(random_keep({3, 1, 1, 4}, 60)), n, 61);
  }
  SUBCASE("an exclude-mask of floats [B, 1, Lq, Lk]") {
    const Tensor exclude = le(random_tensor({3, 1, 5, 4}, 70), scalar(-0.3f)).to(DType::Float32);
    check_equals_reference(AttentionMask::exclude(exclude), n, 71);
  }
  SUBCASE("a mask per head [B, heads, Lq, Lk] and one per key only [Lk]") {
    check_equals_reference(AttentionMask::keep(random_keep({3, 2, 5, 4}, 80)), n, 81);
    check_equals_reference(AttentionMask::keep(ints({1, 0, 1, 1}, {4})), n, 82);
  }
  SUBCASE("one value for a whole row of keys [B, heads, Lq, 1]: all or nothing") {
    check_equals_reference(AttentionMask::keep(random_keep({3, 2, 5, 1}, 90)), n, 91);
  }
  SUBCASE("causal self-attention [L, L]") {
    check_equals_reference(AttentionMask::keep(causal_mask(6)), Sizes{2, 6, 6, 3, 2, 5}, 100);
  }
}

TEST_CASE("the CPU's fused attention kernel equals the composed default every backend inherits") {
  Backend& cpu = backend_for(Device::CPU);
  const int64_t heads = 3;
  const Tensor q = random_tensor({2, 5, 12}, 110), k = random_tensor({2, 6, 12}, 111);
  const Tensor v = random_tensor({2, 6, 9}, 112);
  const Tensor keep = random_keep({2, 1, 5, 6}, 113);
  const float scale = 0.5f;
  Generator gen(116);
  for (const Tensor& drop : {Tensor(), dropout_mask({2, heads, 5, 6}, 0.4f, gen, Device::CPU)}) {
    INFO("dropout mask: ", drop.defined());
    const MultiHeadAttentionResult fused =
        cpu.multi_head_attention(q, k, v, heads, scale, keep, drop);
    const MultiHeadAttentionResult composed =
        cpu.Backend::multi_head_attention(q, k, v, heads, scale, keep, drop);
    check_close(fused.output.to_vector<float>(), composed.output.to_vector<float>());
    check_close(fused.weights.to_vector<float>(), composed.weights.to_vector<float>());
    const Tensor grad_output = random_tensor({2, 5, 9}, 114);
    for (const Tensor& grad_weights : {Tensor(), random_tensor({2, 3, 5, 6}, 115)}) {
      INFO("gradient of the weights given: ", grad_weights.defined());
      const MultiHeadAttentionGrads a = cpu.multi_head_attention_backward(
          grad_output, grad_weights, q, k, v, fused.weights, drop, heads, scale);
      const MultiHeadAttentionGrads b = cpu.Backend::multi_head_attention_backward(
          grad_output, grad_weights, q, k, v, fused.weights, drop, heads, scale);
      check_close(a.q.to_vector<float>(), b.q.to_vector<float>());
      check_close(a.k.to_vector<float>(), b.k.to_vector<float>());
      check_close(a.v.to_vector<float>(), b.v.to_vector<float>());
    }
  }
}

TEST_CASE("multi_head_attention passes gradcheck through its output and its weights") {
  const AttentionMask mask = AttentionMask::valid_lengths(ints({4, 2}, {2}));
  const std::vector<Tensor> inputs = {random_tensor({2, 3, 4}, 120, true),
                                      random_tensor({2, 4, 4}, 121, true),
                                      random_tensor({2, 4, 6}, 122, true)};
  check_gradcheck(
      [&](const std::vector<Tensor>& in) {
        return multi_head_attention(in[0], in[1], in[2], 2, mask).output;
      },
      inputs);
  check_gradcheck(  // only the weights reach the loss: the output's gradient is zero
      [&](const std::vector<Tensor>& in) {
        return multi_head_attention(in[0], in[1], in[2], 2, mask).weights;
      },
      inputs);
  check_gradcheck(  // attention dropout: a fresh generator draws the same mask every call
      [&](const std::vector<Tensor>& in) {
        Generator gen(123);
        return multi_head_attention(in[0], in[1], in[2], 2, mask, 0.3f, true, gen).output;
      },
      inputs);
}

TEST_CASE("multi_head_attention: dropout in the kernel and the composition for no keys") {
  const Tensor q = random_tensor({2, 5, 8}, 130), k = random_tensor({2, 5, 8}, 131);
  const Tensor v = random_tensor({2, 5, 8}, 132);
  SUBCASE("dropout while training: the reference's dropout, from the same generator") {
    const Sizes n;
    const AttentionMask mask = AttentionMask::valid_lengths(ints({4, 0, 2}, {3}));
    for (bool loss_on_weights : {false, true}) {
      INFO("loss on the weights too: ", loss_on_weights);
      Generator a(7), b(7);
      const Outcome fused = run(
          [&](const Tensor& q, const Tensor& k, const Tensor& v) {
            return multi_head_attention(q, k, v, n.heads, mask, 0.5f, true, a);
          },
          n, 133, loss_on_weights);
      const Outcome reference = run(
          [&](const Tensor& q, const Tensor& k, const Tensor& v) {
            const AttentionResult r =
                scaled_dot_product_attention(split_heads(q, n.heads), split_heads(k, n.heads),
                                             split_heads(v, n.heads), mask, 0.5f, true, b);
            return AttentionResult{merge_heads(r.output), r.weights};
          },
          n, 133, loss_on_weights);
      check_close(fused.output, reference.output);
      check_close(fused.weights, reference.weights);
      check_close(fused.grad_q, reference.grad_q);
      check_close(fused.grad_k, reference.grad_k);
      check_close(fused.grad_v, reference.grad_v);
    }
    Generator gen(7);
    const AttentionResult dropped = multi_head_attention(q, k, v, 4, {}, 0.5f, true, gen);
    const AttentionResult plain = multi_head_attention(q, k, v, 4);
    CHECK(sum(abs(dropped.output - plain.output)).item() > 1e-3f);  // dropout did act
    // Dropout out of training is the identity: the fused kernel, the plain result.
    check_close(multi_head_attention(q, k, v, 4, {}, 0.5f, false).output.to_vector<float>(),
                plain.output.to_vector<float>());
  }
  SUBCASE("no keys: zero output, weights [B, heads, Lq, 0]") {
    const AttentionResult r = multi_head_attention(q, zeros({2, 0, 8}), zeros({2, 0, 8}), 4);
    CHECK(r.output.shape() == Shape{2, 5, 8});
    CHECK(r.weights.shape() == Shape{2, 4, 5, 0});
    CHECK(sum(abs(r.output)).item() == 0.0f);
    CHECK(all_finite(r.output));
  }
}

TEST_CASE(
    "split_heads moves head h's column block to a batch row of its own, and merge_heads undoes "
    "it") {
  const Tensor x = arange(24, DType::Float32).reshape({1, 2, 12});  // B 1, L 2, 3 heads of 4
  const Tensor split = split_heads(x, 3);
  CHECK(split.shape() == Shape{1, 3, 2, 4});
  // head 1, position 1: columns 4..7 of row 1 = 12 + 4 .. 12 + 7
  check_close(select(select(split, 1, 1), 1, 1).to_vector<float>(), {16, 17, 18, 19});
  check_close(merge_heads(split).to_vector<float>(), x.to_vector<float>());
  CHECK_THROWS_WITH_AS(split_heads(x, 5),
                       "split_heads: expected [B, L, heads * w] with heads = 5 > 0, got [1,2,12]",
                       Error);
  CHECK_THROWS_WITH_AS(merge_heads(x), "merge_heads: expected [B, heads, L, w], got [1,2,12]",
                       Error);
}

TEST_CASE("multi_head_attention rejects bad input with a message") {
  const Tensor q = random_tensor({2, 3, 8}, 140), k = random_tensor({2, 4, 8}, 141);
  const Tensor v = random_tensor({2, 4, 6}, 142);
  CHECK_THROWS_WITH_AS(multi_head_attention(q, k, v, 0),
                       "multi_head_attention: heads must be positive, got 0", Error);
  CHECK_THROWS_WITH_AS(multi_head_attention(q, k, v, 4),
                       "multi_head_attention: the widths of q and k (8) and of v (6) must be "
                       "positive multiples of heads (4)",
                       Error);
  CHECK_THROWS_WITH_AS(multi_head_attention(q, random_tensor({3, 4, 8}, 143), v, 2),
                       "multi_head_attention: expected q [B, Lq, heads * d], k [B, Lk, heads * "
                       "d], v [B, Lk, heads * dv], got q [2,3,8], k [3,4,8] and v [2,4,6]",
                       Error);
  CHECK_THROWS_WITH_AS(multi_head_attention(q, k, random_tensor({2, 5, 6}, 144), 2),
                       "multi_head_attention: expected q [B, Lq, heads * d], k [B, Lk, heads * "
                       "d], v [B, Lk, heads * dv], got q [2,3,8], k [2,4,8] and v [2,5,6]",
                       Error);
  CHECK_THROWS_WITH_AS(multi_head_attention(q.to(DType::Int32), k, v, 2),
                       "multi_head_attention: q must be float32, got int32 [2,3,8]", Error);
  CHECK_THROWS_WITH_AS(multi_head_attention(q, k, v, 2, {}, 1.0f),
                       "multi_head_attention: dropout must be in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(multi_head_attention(q, k, v, 2, AttentionMask::keep(ones({2, 5}))),
                       doctest::Contains("multi_head_attention: mask of shape [2,5] does not "
                                         "broadcast to the scores' shape [2,2,3,4]"),
                       Error);
}
