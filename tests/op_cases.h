// One table of op cases, shared by every suite that runs "each op": gradcheck on the CPU
// (tests/framework/test_op_cases.cpp) and CPU/CUDA parity (tests/cuda/test_parity.cpp); a
// benchmark can walk it too.
//
// A case is a name, the shapes of its float inputs (filled with random normals by the suite),
// and the computation. Anything else a case needs (targets, masks, indices) it builds inside the
// lambda on its inputs' device, so the same lambda runs on every device. Inputs that must be
// positive (log, sqrt, pow) are made so inside the lambda too: abs(x) + 0.5 keeps it smooth for
// gradcheck and away from 0.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "framework/tapegrad.h"

namespace tg::testing {

struct OpCase {
  std::string name;
  std::vector<Shape> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> f;
  // False for the wide cases that exist to exercise long-row GPU kernels: with hundreds of
  // inputs summed in float32, finite differences drown in rounding noise.
  bool gradcheck = true;
};

namespace op_case_detail {
inline Tensor ints(const std::vector<int32_t>& values, const Shape& shape, const Tensor& like) {
  return from_vector(values, shape, like.device());
}
inline Tensor positive(const Tensor& x) { return abs(x) + 0.5f; }
}  // namespace op_case_detail

inline const std::vector<OpCase>& op_cases() {
  using namespace op_case_detail;
  using In = const std::vector<Tensor>&;
  static const std::vector<OpCase> cases = {
      // ---- unary ----
      {"neg", {{3, 4}}, [](In x) { return neg(x[0]); }},
      {"exp", {{3, 4}}, [](In x) { return exp(x[0]); }},
      {"log", {{3, 4}}, [](In x) { return log(positive(x[0])); }},
      {"sqrt", {{3, 4}}, [](In x) { return sqrt(positive(x[0])); }},
      {"tanh", {{3, 4}}, [](In x) { return tanh(x[0]); }},
      {"sigmoid", {{3, 4}}, [](In x) { return sigmoid(x[0]); }},
      {"relu", {{3, 4}}, [](In x) { return relu(x[0]); }},
      {"gelu", {{3, 4}}, [](In x) { return gelu(x[0]); }},
      {"gelu tanh", {{3, 4}}, [](In x) { return gelu(x[0], GeluApproximation::Tanh); }},
      {"softplus", {{3, 4}}, [](In x) { return softplus(x[0]); }},
      {"softplus beta 2", {{3, 4}}, [](In x) { return softplus(x[0], 2.0f); }},
      {"abs", {{3, 4}}, [](In x) { return abs(x[0]); }},
      {"pow", {{3, 4}}, [](In x) { return pow(positive(x[0]), 1.5f); }},
      {"clamp", {{3, 4}}, [](In x) { return clamp(x[0], -0.5f, 0.7f); }},
      // ---- binary, broadcasting ----
      {"add broadcast row", {{3, 4}, {4}}, [](In x) { return x[0] + x[1]; }},
      {"sub broadcast column", {{2, 3, 4}, {3, 1}}, [](In x) { return x[0] - x[1]; }},
      {"mul broadcast both", {{2, 1, 4}, {3, 1}}, [](In x) { return x[0] * x[1]; }},
      {"div", {{3, 4}, {3, 4}}, [](In x) { return x[0] / positive(x[1]); }},
      {"scalar ops", {{5}}, [](In x) { return 2.0f * x[0] - 1.0f / (x[0] * x[0] + 1.0f); }},
      {"maximum", {{3, 4}, {4}}, [](In x) { return maximum(x[0], x[1]); }},
      {"minimum", {{3, 4}, {3, 1}}, [](In x) { return minimum(x[0], x[1]); }},
      {"broadcast rank 9",
       {{2, 2, 2, 2, 2, 2, 2, 2, 3}, {2, 1, 3}},
       [](In x) { return x[0] * x[1]; }},
      // ---- comparisons and selection ----
      {"gt (int32 mask)", {{3, 4}, {4}}, [](In x) { return gt(x[0], x[1]); }},
      {"where", {{3, 4}, {3, 4}, {4}}, [](In x) { return where(ge(x[0], x[1]), x[1], x[2]); }},
      {"masked_fill",
       {{3, 4}},
       [](In x) {
         return masked_fill(x[0], ints({1, 0, 0, 1}, {4}, x[0]), -2.0f);
       }},
      // ---- reductions ----
      {"sum all", {{3, 4}}, [](In x) { return sum(x[0]); }},
      {"sum dim 0", {{3, 4, 2}}, [](In x) { return sum(x[0], {0}); }},
      {"mean dims 1,2 keepdim",
       {{3, 4, 2}},
       [](In x) {
         return mean(x[0], {1, 2}, true);
       }},
      {"sum long rows", {{3, 300}}, [](In x) { return sum(x[0], {1}); }},
      {"max dim 1", {{3, 5}}, [](In x) { return max(x[0], {1}); }},
      {"min dim 0", {{3, 5}}, [](In x) { return min(x[0], {0}); }},
      {"max long rows", {{2, 300}}, [](In x) { return max(x[0], {1}); }},
      {"var", {{4, 5}}, [](In x) { return var(x[0], {1}); }},
      {"argmax dim 1", {{4, 7}}, [](In x) { return argmax(x[0], 1); }},
      {"argmax dim 0", {{4, 7}}, [](In x) { return argmax(x[0], 0); }},
      {"argmax long rows", {{3, 300}}, [](In x) { return argmax(x[0], 1); }},
      // ---- layout ----
      {"permute",
       {{2, 3, 4}},
       [](In x) {
         return permute(x[0], {2, 0, 1}) * 1.5f;
       }},
      {"transpose", {{3, 5}}, [](In x) { return transpose(x[0], 0, 1) * x[0].sum(); }},
      {"expand",
       {{3, 1}},
       [](In x) {
         return expand(x[0], {2, 3, 4}) * 2.0f;
       }},
      {"narrow", {{4, 6}}, [](In x) { return narrow(x[0], 1, 2, 3) * 2.0f; }},
      {"concat",
       {{2, 3}, {2, 2}},
       [](In x) {
         return concat({x[0], x[1]}, 1) * 2.0f;
       }},
      {"stack",
       {{2, 3}, {2, 3}},
       [](In x) {
         return stack({x[0], x[1]}, 1) * 2.0f;
       }},
      {"index_select dim 1",
       {{3, 5}},
       [](In x) {
         return index_select(x[0], 1, ints({4, 0, 4, 2}, {4}, x[0])) * 2.0f;
       }},
      // The padding row gets no gradient by design, so its outputs are masked out: then the
      // finite differences agree, and the backward still runs index_add's skip path.
      {"embedding with padding",
       {{6, 3}},
       [](In x) {
         const Tensor ids = ints({1, 5, 1, 0, 2, 5}, {2, 3}, x[0]);
         const Tensor not_padding = ne(ids, full({}, 5, DType::Int32, x[0].device()));
         return embedding(x[0], ids, 5) * not_padding.to(DType::Float32).unsqueeze(-1);
       }},
      // ---- matrix products ----
      {"matmul", {{3, 4}, {4, 5}}, [](In x) { return matmul(x[0], x[1]); }},
      {"matmul transposed", {{4, 3}, {5, 4}}, [](In x) { return matmul(x[0], x[1], true, true); }},
      {"matmul batched", {{2, 3, 4}, {2, 4, 5}}, [](In x) { return matmul(x[0], x[1]); }},
      {"matmul broadcast batch", {{2, 3, 4}, {4, 5}}, [](In x) { return matmul(x[0], x[1]); }},
      {"linear", {{3, 4}, {5, 4}, {5}}, [](In x) { return linear(x[0], x[1], x[2]); }},
      {"linear batched, per-element bias",
       {{2, 3, 4}, {5, 4}, {2, 3, 5}},
       [](In x) { return linear(x[0], x[1], x[2]); }},
      {"linear 1-D, no bias", {{4}, {5, 4}}, [](In x) { return linear(x[0], x[1]); }},
      // ---- fused nn ----
      {"softmax last dim", {{3, 5}}, [](In x) { return softmax(x[0], -1); }},
      {"softmax dim 0", {{4, 3, 2}}, [](In x) { return softmax(x[0], 0); }},
      {"softmax long rows", {{2, 300}}, [](In x) { return softmax(x[0], 1); }},
      {"log_softmax", {{3, 5}}, [](In x) { return log_softmax(x[0], 1); }},
      {"softmax masked",
       {{3, 4}},
       [](In x) {
         return softmax(x[0], 1, ints({1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1}, {3, 4}, x[0]));
       }},
      {"log_softmax masked",
       {{3, 4}},
       [](In x) {
         return log_softmax(x[0], 1, ints({1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1}, {3, 4}, x[0]));
       }},
      {"cross_entropy",
       {{4, 6}},
       [](In x) {
         return cross_entropy(x[0], ints({0, 5, 2, 2}, {4}, x[0]));
       }},
      {"cross_entropy ignore + smoothing",
       {{4, 6}},
       [](In x) {
         CrossEntropyOptions options;
         options.ignore_index = -1;
         options.label_smoothing = 0.1f;
         options.reduction = Reduction::None;
         return cross_entropy(x[0], ints({3, -1, 0, 5}, {4}, x[0]), options);
       }},
      {"cross_entropy many classes",
       {{3, 300}},
       [](In x) {
         return cross_entropy(x[0], ints({7, 299, 0}, {3}, x[0]));
       }},
      {"nll_loss",
       {{4, 5}},
       [](In x) {
         return nll_loss(log_softmax(x[0], 1), ints({1, 0, 4, 3}, {4}, x[0]));
       }},
      {"mse_loss", {{3, 4}, {3, 4}}, [](In x) { return mse_loss(x[0], x[1]); }},
      {"layer_norm", {{3, 5}, {5}, {5}}, [](In x) { return layer_norm(x[0], x[1], x[2]); }},
      {"layer_norm no affine", {{2, 3, 4}}, [](In x) { return layer_norm(x[0], {}, {}); }},
      {"layer_norm wide",
       {{3, 300}, {300}, {300}},
       [](In x) { return layer_norm(x[0], x[1], x[2]); },
       /*gradcheck=*/false},
      // ---- banded products and local attention (ops/banded.h) ----
      {"band_dot", {{2, 5, 3}, {2, 5, 3}}, [](In x) { return band_dot(x[0], x[1], 2); }},
      {"band_weighted_sum",
       {{2, 5, 5}, {2, 5, 3}},
       [](In x) { return band_weighted_sum(x[0], x[1], 2); }},
      {"local_attention causal, padded",
       {{2, 5, 3}, {2, 5, 3}, {2, 5, 2}},
       [](In x) {
         return local_attention(x[0], x[1], x[2], 1, ints({5, 3}, {2}, x[0]), true).output;
       }},
      {"layer_norm many rows",
       {{130, 4}, {4}, {4}},
       [](In x) { return layer_norm(x[0], x[1], x[2]); }},
  };
  return cases;
}

}  // namespace tg::testing
