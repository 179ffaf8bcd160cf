// Attention functions and AdditiveAttention: values computed by hand and against the formula
// written out with matmul / softmax, the mask contract (masked keys get exactly zero weight and
// their values exactly zero gradient; a fully masked row is zero, never NaN), the mask helpers,
// gradcheck, and every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/attention.h"
#include "layers/module_gradcheck.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

// softmax(q k^T / sqrt(d)) v spelled out with an explicit transpose, masked entries pushed to
// -1e9 before a plain softmax: independent of the mask path under test.
Tensor reference_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& keep,
                           Tensor* weights_out = nullptr) {
  Tensor scores = matmul(q, transpose(k, -1, -2)) / std::sqrt(static_cast<float>(q.size(-1)));
  if (keep.defined()) scores = masked_fill(scores, eq(keep, full({}, 0, DType::Int32)), -1e9f);
  const Tensor weights = softmax(scores, -1);
  if (weights_out) *weights_out = weights;
  return matmul(weights, v);
}

// Sums of each row of a [..., Lq, Lk] tensor.
std::vector<float> row_sums(const Tensor& weights) { return sum(weights, {-1}).to_vector<float>(); }

}  // namespace

// ---- masks ----

TEST_CASE("key_padding_mask keeps the first valid_lens(b) keys, shaped (B, 1, 1, Lk)") {
  const Tensor mask = key_padding_mask(from_vector(std::vector<int32_t>{1, 3, 0}, {3}), 3);
  CHECK(mask.dtype() == DType::Int32);
  CHECK(mask.shape() == Shape{3, 1, 1, 3});
  CHECK(mask.to_vector<int32_t>() == std::vector<int32_t>{1, 0, 0, 1, 1, 1, 0, 0, 0});
}

TEST_CASE("causal_mask is lower triangular: query t attends to keys 0..t") {
  const Tensor mask = causal_mask(3);
  CHECK(mask.dtype() == DType::Int32);
  CHECK(mask.shape() == Shape{3, 3});
  CHECK(mask.to_vector<int32_t>() == std::vector<int32_t>{1, 0, 0, 1, 1, 0, 1, 1, 1});
}

TEST_CASE("mask helpers reject bad input with a message") {
  CHECK_THROWS_WITH_AS(key_padding_mask(from_vector(std::vector<float>{1, 2}, {2}), 3),
                       doctest::Contains("key_padding_mask: valid_lens must be int32 [B]"), Error);
  CHECK_THROWS_WITH_AS(
      key_padding_mask(from_vector(std::vector<int32_t>{1, 4}, {2}), 3),
      doctest::Contains("key_padding_mask: valid length 4 at batch index 1 is out of range [0, 3]"),
      Error);
  CHECK_THROWS_WITH_AS(
      key_padding_mask(from_vector(std::vector<int32_t>{-1}, {1}), 3),
      doctest::Contains(
          "key_padding_mask: valid length -1 at batch index 0 is out of range [0, 3]"),
      Error);
  CHECK_THROWS_WITH_AS(causal_mask(-2), doctest::Contains("causal_mask: len must be >= 0"), Error);
}

// ---- scaled dot-product attention ----

TEST_CASE("scaled_dot_product_attention on a tiny case computed by hand") {
  // q = [1, 0]; keys [1,0], [0,1], [2,2]; d = 2, so scores = [1, 0, 2] / sqrt(2).
  // weights = softmax(scores) = [0.283995, 0.140029, 0.575975]
  // output = weights [[1,10],[3,20],[5,30]] = [3.583960, 22.919799]
  const Tensor q = from_vector(std::vector<float>{1, 0}, {1, 1, 2});
  const Tensor k = from_vector(std::vector<float>{1, 0, 0, 1, 2, 2}, {1, 3, 2});
  const Tensor v = from_vector(std::vector<float>{1, 10, 3, 20, 5, 30}, {1, 3, 2});
  AttentionResult r = scaled_dot_product_attention(q, k, v);
  check_close(r.weights.to_vector<float>(), {0.283995f, 0.140029f, 0.575975f});
  check_close(r.output.to_vector<float>(), {3.583960f, 22.919799f});

  // Masking the third key renormalises over the first two: [0.669762, 0.330238].
  const Tensor keep = from_vector(std::vector<int32_t>{1, 1, 0}, {3});
  r = scaled_dot_product_attention(q, k, v, AttentionMask::keep(keep));
  check_close(r.weights.to_vector<float>(), {0.669762f, 0.330238f, 0.0f});
  check_close(r.output.to_vector<float>(), {1.660477f, 13.302385f});
  // The same mask, PyTorch's nn.MultiheadAttention way (True = masked out), bool-like or as
  // its additive float mask of 0 / -inf; and as d2l's valid_lens = [2].
  const Tensor torch_mask = from_vector(std::vector<int32_t>{0, 0, 1}, {3});
  const float inf = std::numeric_limits<float>::infinity();
  for (const AttentionMask& mask :
       {AttentionMask::exclude(torch_mask), AttentionMask::exclude(from_vector({0, 0, -inf}, {3})),
        AttentionMask(from_vector(std::vector<int32_t>{2}, {1}))}) {
    CAPTURE(mask.describe());
    check_close(scaled_dot_product_attention(q, k, v, mask).output.to_vector<float>(),
                {1.660477f, 13.302385f});
  }
  // A bare 0/1 mask says neither: an error naming both choices.
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, from_vector({1.0f, 1.0f, 0.0f}, {3})),
                       doctest::Contains("attention mask: got a bare float32 [3] tensor, which "
                                         "is ambiguous"),
                       Error);
}

TEST_CASE("scaled_dot_product_attention matches the formula, with and without a mask") {
  const Tensor q = random_tensor({2, 3, 4}, 1), k = random_tensor({2, 5, 4}, 2);
  const Tensor v = random_tensor({2, 5, 3}, 3);
  Tensor want_weights;
  Tensor want = reference_attention(q, k, v, {}, &want_weights);
  AttentionResult got = scaled_dot_product_attention(q, k, v);
  CHECK(got.output.shape() == Shape{2, 3, 3});
  CHECK(got.weights.shape() == Shape{2, 3, 5});
  check_close(got.output.to_vector<float>(), want.to_vector<float>());
  check_close(got.weights.to_vector<float>(), want_weights.to_vector<float>());

  // Key padding (lengths 2 and 5) and a causal-style [Lq, Lk] mask, combined into [2, 3, 5].
  const Tensor padding = key_padding_mask(from_vector(std::vector<int32_t>{2, 5}, {2}), 5);
  const Tensor band =
      le(arange(5).reshape({1, 5}), arange(3).reshape({3, 1}) + full({}, 1, DType::Int32));
  const Tensor keep = padding.squeeze(1) * band;  // [2, 1, 5] * [3, 5] -> [2, 3, 5]
  want = reference_attention(q, k, v, keep, &want_weights);
  got = scaled_dot_product_attention(q, k, v, AttentionMask::keep(keep));
  check_close(got.output.to_vector<float>(), want.to_vector<float>());
  check_close(got.weights.to_vector<float>(), want_weights.to_vector<float>());
  check_close(row_sums(got.weights), std::vector<float>(6, 1.0f));

  // A Float32 keep-mask means the same as the Int32 one.
  const AttentionResult from_float =
      scaled_dot_product_attention(q, k, v, AttentionMask::keep(keep.to(DType::Float32)));
  CHECK(from_float.output.to_vector<float>() == got.output.to_vector<float>());
}

TEST_CASE("leading dims broadcast: one set of keys serves every batch of queries") {
  const Tensor q = random_tensor({2, 2, 3, 4}, 4), k = random_tensor({5, 4}, 5);
  const Tensor v = random_tensor({5, 2}, 6);
  const AttentionResult got = scaled_dot_product_attention(q, k, v);
  CHECK(got.output.shape() == Shape{2, 2, 3, 2});
  check_close(got.output.to_vector<float>(), reference_attention(q, k, v, {}).to_vector<float>());
}

TEST_CASE("masked keys get exactly zero weight and their values exactly zero gradient") {
  const Tensor q = random_tensor({2, 3, 4}, 7, true), k = random_tensor({2, 4, 4}, 8, true);
  const Tensor v = random_tensor({2, 4, 2}, 9, true);
  const Tensor keep = key_padding_mask(from_vector(std::vector<int32_t>{2, 4}, {2}), 4).squeeze(1);
  const AttentionResult r = scaled_dot_product_attention(q, k, v, AttentionMask::keep(keep));
  const std::vector<float> w = r.weights.to_vector<float>();  // [2, 3, 4]
  for (int i = 0; i < 3; ++i) {
    CHECK(w[i * 4 + 2] == 0.0f);
    CHECK(w[i * 4 + 3] == 0.0f);
  }
  check_close(row_sums(r.weights), std::vector<float>(6, 1.0f));

  (r.output * random_tensor({2, 3, 2}, 10)).sum().backward();
  const std::vector<float> gv = v.grad().to_vector<float>(), gk = k.grad().to_vector<float>();
  for (int j = 2; j < 4; ++j) {  // batch 0, keys 2 and 3
    for (int c = 0; c < 2; ++c) CHECK(gv[j * 2 + c] == 0.0f);
    for (int c = 0; c < 4; ++c) CHECK(gk[j * 4 + c] == 0.0f);
  }
  // Batch 1 has no padding: its padded-position gradients are genuinely nonzero.
  CHECK(gv[(4 + 3) * 2] != 0.0f);
}

TEST_CASE("a fully masked row gives zero output and zero gradients, never NaN") {
  const Tensor q = random_tensor({2, 2, 4}, 11, true), k = random_tensor({2, 3, 4}, 12, true);
  const Tensor v = random_tensor({2, 3, 2}, 13, true);
  // Batch 0 has no valid key at all.
  const Tensor keep = key_padding_mask(from_vector(std::vector<int32_t>{0, 2}, {2}), 3).squeeze(1);
  const AttentionResult r = scaled_dot_product_attention(q, k, v, AttentionMask::keep(keep));
  CHECK(all_finite(r.output));
  const std::vector<float> out = r.output.to_vector<float>();
  for (int i = 0; i < 4; ++i) CHECK(out[i] == 0.0f);  // batch 0: [2, 2] zeros
  check_close(row_sums(r.weights), {0, 0, 1, 1});

  (r.output * random_tensor({2, 2, 2}, 14)).sum().backward();
  for (const Tensor* t : {&q, &k, &v}) {
    const Tensor g = t->grad();
    CHECK(all_finite(g));
    const std::vector<float> values = g.to_vector<float>();
    const size_t half = values.size() / 2;
    for (size_t i = 0; i < half; ++i) CHECK(values[i] == 0.0f);
  }
}

TEST_CASE("gradcheck: scaled_dot_product_attention with padding and causal masks") {
  const Tensor padding = key_padding_mask(from_vector(std::vector<int32_t>{2, 3}, {2}), 3);
  const Tensor keep = padding * causal_mask(3);  // [2, 1, 3, 3]
  auto f = [&](const std::vector<Tensor>& in) {
    return scaled_dot_product_attention(in[0], in[1], in[2], AttentionMask::keep(keep)).output;
  };
  const GradcheckResult r =
      gradcheck(f, {random_tensor({2, 2, 3, 2}, 15, true), random_tensor({2, 2, 3, 2}, 16, true),
                    random_tensor({2, 2, 3, 3}, 17, true)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("attend composes with an additive score bias (e.g. relative positions)") {
  const Tensor q = random_tensor({1, 2, 4}, 18), k = random_tensor({1, 3, 4}, 19);
  const Tensor v = random_tensor({1, 3, 2}, 20);
  const Tensor bias = from_vector(std::vector<float>{0, -1, -2, -1, 0, -1}, {2, 3});
  const Tensor scores = scaled_dot_product_scores(q, k) + bias;
  const AttentionResult got = attend(scores, v);
  const Tensor want = matmul(softmax(matmul(q, transpose(k, -1, -2)) / 2.0f + bias, -1), v);
  check_close(got.output.to_vector<float>(), want.to_vector<float>());
}

TEST_CASE("dropout on the weights acts only in training, returned weights are pre-dropout") {
  const Tensor q = random_tensor({2, 4, 4}, 21), k = random_tensor({2, 6, 4}, 22);
  const Tensor v = random_tensor({2, 6, 3}, 23);
  Generator gen(5);
  const AttentionResult plain = scaled_dot_product_attention(q, k, v);
  const AttentionResult eval = scaled_dot_product_attention(q, k, v, {}, 0.5f, false, gen);
  CHECK(eval.output.to_vector<float>() == plain.output.to_vector<float>());
  const AttentionResult train = scaled_dot_product_attention(q, k, v, {}, 0.5f, true, gen);
  CHECK(train.weights.to_vector<float>() == plain.weights.to_vector<float>());
  CHECK(train.output.to_vector<float>() != plain.output.to_vector<float>());
}

TEST_CASE("scaled_dot_product_attention and attend reject bad input with a message") {
  const Tensor q = random_tensor({2, 3, 4}, 24), k = random_tensor({2, 5, 4}, 25);
  const Tensor v = random_tensor({2, 5, 3}, 26);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, random_tensor({2, 5, 3}, 1), v),
                       doctest::Contains("scaled_dot_product_attention: expected q [..., Lq, d] "
                                         "and k [..., Lk, d] with the same d, got q [2,3,4] and "
                                         "k [2,5,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, random_tensor({2, 4, 3}, 1)),
                       doctest::Contains("must have the same Lk, got k [2,5,4] and v [2,4,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(
      scaled_dot_product_attention(q, k, v, AttentionMask::keep(ones({2, 3, 4}, DType::Int32))),
      doctest::Contains("mask of shape [2,3,4] does not broadcast to the scores' shape [2,3,5]"),
      Error);
  // The multi-head padding mask [B, 1, 1, Lk] has one dim too many for 3-D scores.
  CHECK_THROWS_WITH_AS(
      scaled_dot_product_attention(q, k, v, AttentionMask::keep(ones({2, 1, 1, 5}, DType::Int32))),
      doctest::Contains("mask of shape [2,1,1,5] does not broadcast"), Error);
  CHECK_THROWS_WITH_AS(
      scaled_dot_product_attention(q, k, from_vector(std::vector<int32_t>(30, 1), {2, 5, 3})),
      doctest::Contains("scaled_dot_product_attention: v must be float32"), Error);
  CHECK_THROWS_WITH_AS(attend(random_tensor({2, 3, 5}, 1), v, {}, 1.0f),
                       doctest::Contains("attend: dropout must be in [0, 1), got 1"), Error);
}

// ---- additive attention ----

TEST_CASE("AdditiveAttention computes w_v^T tanh(W_q q + W_k k) for every pair, then softmax") {
  Generator gen(30);
  AdditiveAttention attention(3, 2, 4, 0.0f, gen);
  const Tensor q = random_tensor({2, 2, 3}, 31), k = random_tensor({2, 3, 2}, 32);
  const Tensor v = random_tensor({2, 3, 2}, 33);
  const Tensor keep = key_padding_mask(from_vector(std::vector<int32_t>{2, 3}, {2}), 3).squeeze(1);
  const AttentionResult got = attention(q, k, v, AttentionMask::keep(keep));
  CHECK(got.output.shape() == Shape{2, 2, 2});
  CHECK(got.weights.shape() == Shape{2, 2, 3});

  // Scores by hand, in double, from the layer's own weights.
  const std::vector<float> wq = attention.w_q.weight.to_vector<float>();  // [4, 3]
  const std::vector<float> wk = attention.w_k.weight.to_vector<float>();  // [4, 2]
  const std::vector<float> wv = attention.w_v.weight.to_vector<float>();  // [1, 4]
  const std::vector<float> qs = q.to_vector<float>(), ks = k.to_vector<float>();
  const std::vector<int32_t> lens{2, 3};
  std::vector<float> scores(2 * 2 * 3);
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) {
        double score = 0;
        for (int h = 0; h < 4; ++h) {
          double pre = 0;
          for (int c = 0; c < 3; ++c) pre += wq[h * 3 + c] * qs[(b * 2 + i) * 3 + c];
          for (int c = 0; c < 2; ++c) pre += wk[h * 2 + c] * ks[(b * 3 + j) * 2 + c];
          score += wv[h] * std::tanh(pre);
        }
        scores[(b * 2 + i) * 3 + j] = j < lens[b] ? static_cast<float>(score) : -1e9f;
      }
  const Tensor want_weights = softmax(from_vector(scores, {2, 2, 3}), -1);
  check_close(got.weights.to_vector<float>(), want_weights.to_vector<float>());
  check_close(got.output.to_vector<float>(), matmul(want_weights, v).to_vector<float>());
  CHECK(got.weights.to_vector<float>()[2] == 0.0f);  // batch 0, query 0, padded key 2
}

TEST_CASE("gradcheck: AdditiveAttention, inputs and every parameter, with a mask") {
  Generator gen(40);
  AdditiveAttention attention(3, 2, 4, 0.0f, gen);
  const Tensor keep = key_padding_mask(from_vector(std::vector<int32_t>{1, 3}, {2}), 3).squeeze(1);
  auto f = [&](const std::vector<Tensor>& in) {
    return attention(in[0], in[1], in[2], AttentionMask::keep(keep)).output;
  };
  const GradcheckResult r =
      gradcheck_module(attention, f,
                       {random_tensor({2, 2, 3}, 41, true), random_tensor({2, 3, 2}, 42, true),
                        random_tensor({2, 3, 2}, 43, true)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("AdditiveAttention: names, every parameter gets a gradient, fully masked rows") {
  Generator gen(50);
  AdditiveAttention attention(3, 2, 4, 0.0f, gen);
  std::vector<std::string> names;
  for (const auto& [name, p] : attention.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"w_q.weight", "w_k.weight", "w_v.weight"});

  const Tensor q = random_tensor({2, 2, 3}, 51, true), k = random_tensor({2, 3, 2}, 52, true);
  const Tensor v = random_tensor({2, 3, 2}, 53, true);
  const Tensor keep = key_padding_mask(from_vector(std::vector<int32_t>{0, 3}, {2}), 3).squeeze(1);
  const AttentionResult r = attention(q, k, v, AttentionMask::keep(keep));
  CHECK(all_finite(r.output));
  const std::vector<float> out = r.output.to_vector<float>();
  for (int i = 0; i < 4; ++i) CHECK(out[i] == 0.0f);
  (r.output * random_tensor({2, 2, 2}, 54)).sum().backward();
  for (const auto& [name, p] : attention.named_parameters()) {
    INFO("parameter ", name);
    REQUIRE(p.grad().defined());
    CHECK(all_finite(p.grad()));
    CHECK(sum(abs(p.grad())).item() > 0.0f);
  }
  const std::vector<float> gq = q.grad().to_vector<float>();
  for (int i = 0; i < 6; ++i) CHECK(gq[i] == 0.0f);  // batch 0 saw no key
}

TEST_CASE("AdditiveAttention: keys projected once give forward's values and gradients") {
  // A decoder attends to the same keys at every step: project_keys once, forward_projected
  // per step. Two steps here, against two calls of forward, values and every gradient.
  Generator gen(55);
  AdditiveAttention attention(3, 2, 4, 0.0f, gen);
  const Tensor keep = key_padding_mask(from_vector(std::vector<int32_t>{2, 3}, {2}), 3).squeeze(1);
  auto run = [&](bool projected_once) {
    attention.zero_grad();
    const Tensor q = random_tensor({2, 1, 3}, 56, true), k = random_tensor({2, 3, 2}, 57, true);
    const Tensor v = random_tensor({2, 3, 2}, 58, true);
    const Tensor keys = projected_once ? attention.project_keys(k) : Tensor();
    Tensor total = zeros({2, 1, 2});
    for (int step = 0; step < 2; ++step) {
      const Tensor query = q * static_cast<float>(step + 1);
      const AttentionMask mask = AttentionMask::keep(keep);
      const Tensor out = projected_once ? attention.forward_projected(query, keys, v, mask).output
                                        : attention(query, k, v, mask).output;
      total = total + out * static_cast<float>(step + 2);
    }
    (total * random_tensor({2, 1, 2}, 59)).sum().backward();
    std::vector<std::vector<float>> got{total.to_vector<float>(), q.grad().to_vector<float>(),
                                        k.grad().to_vector<float>(), v.grad().to_vector<float>()};
    for (const auto& [name, p] : attention.named_parameters())
      got.push_back(p.grad().to_vector<float>());
    return got;
  };
  const auto once = run(true), every_step = run(false);
  REQUIRE(once.size() == every_step.size());
  for (size_t i = 0; i < once.size(); ++i) {
    INFO("tensor ", i, " (output, dq, dk, dv, then the parameters' gradients)");
    check_close(once[i], every_step[i], 1e-6f);
  }
}

TEST_CASE("AdditiveAttention rejects bad input with its path in the message") {
  Generator gen(60);
  CHECK_THROWS_WITH_AS(AdditiveAttention(3, 2, 4, 1.5f, gen),
                       doctest::Contains("AdditiveAttention: dropout must be in [0, 1), got 1.5"),
                       Error);
  AdditiveAttention attention(3, 2, 4, 0.0f, gen);
  const Tensor q = random_tensor({2, 2, 3}, 1), k = random_tensor({2, 3, 2}, 2);
  const Tensor v = random_tensor({2, 3, 2}, 3);
  CHECK_THROWS_WITH_AS(attention(random_tensor({2, 2, 4}, 1), k, v),
                       doctest::Contains("AdditiveAttention: expected queries [..., Lq, 3], got "
                                         "[2,2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(attention(q, random_tensor({2, 3, 3}, 1), v),
                       doctest::Contains("expected keys [..., Lk, 2], got [2,3,3]"), Error);
  CHECK_THROWS_WITH_AS(attention(q, k, random_tensor({2, 4, 2}, 1)),
                       doctest::Contains("expected values [..., Lk, dv] with Lk = 3 as in keys, "
                                         "got [2,4,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(attention(q, k, v, AttentionMask::keep(ones({2, 2, 4}, DType::Int32))),
                       doctest::Contains("AdditiveAttention: mask of shape [2,2,4] does not "
                                         "broadcast to the scores' shape [2,2,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(attention.forward_projected(q, k, v),
                       doctest::Contains("AdditiveAttention: expected projected keys [..., Lk, 4] "
                                         "(project_keys), got [2,3,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(attention.project_keys(random_tensor({3}, 1)),
                       doctest::Contains("expected keys [..., Lk, 2], got [3]"), Error);
}
