#include "layers/positional_encoding.h"

#include <cmath>
#include <string>
#include <vector>

#include "framework/ops/elementwise.h"
#include "framework/ops/shape.h"
#include "layers/init.h"

namespace tg {

namespace {

Tensor sinusoid_table(int64_t max_len, int64_t dim) {
  std::vector<float> values(static_cast<size_t>(max_len * dim));
  for (int64_t j = 0; j < dim; ++j) {
    const int64_t two_i = j - j % 2;  // features 2i and 2i + 1 share a frequency
    const double frequency = std::pow(10000.0, -static_cast<double>(two_i) / dim);
    for (int64_t pos = 0; pos < max_len; ++pos) {
      const double angle = static_cast<double>(pos) * frequency;
      values[pos * dim + j] = static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
  return from_vector(values, {max_len, dim});
}

// Shared by both: x must be [B, T, dim] with T <= max_len.
std::string shape_problem(const Tensor& x, int64_t max_len, int64_t dim) {
  if (!x.defined()) return "got an undefined tensor";
  if (x.dim() != 3 || x.size(-1) != dim)
    return "expected input [B, T, " + std::to_string(dim) + "], got " + to_string(x.shape());
  if (x.size(1) > max_len)
    return "sequence length " + std::to_string(x.size(1)) + " exceeds max_len " +
           std::to_string(max_len);
  return "";
}

}  // namespace

PositionalEncoding::PositionalEncoding(int64_t dim, int64_t max_len, float dropout, Generator& gen)
    : Module("PositionalEncoding"), dim(dim), max_len(max_len), drop(dropout, gen) {
  check(dim > 0 && max_len > 0, *this, ": dim and max_len must be positive, got ", dim, " and ",
        max_len);
  table = register_computed_buffer("pe", sinusoid_table(max_len, dim));
  register_module("drop", drop);
}

Tensor PositionalEncoding::forward(const Tensor& x) const {
  const std::string problem = shape_problem(x, max_len, dim);
  check(problem.empty(), *this, ": ", problem);
  // The first T rows of the table are a view (narrow along dim 0); + broadcasts over the batch.
  return drop(x + narrow(table, 0, 0, x.size(1)));
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len, int64_t dim, Generator& gen)
    : Module("LearnedPositionalEmbedding"), max_len(max_len), dim(dim) {
  check(dim > 0 && max_len > 0, *this, ": dim and max_len must be positive, got ", dim, " and ",
        max_len);
  weight = empty({max_len, dim});
  init::normal_(weight, 0.0f, 0.02f, gen);
  register_parameter("weight", weight);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& x) const {
  const std::string problem = shape_problem(x, max_len, dim);
  check(problem.empty(), *this, ": ", problem);
  return x + narrow(weight, 0, 0, x.size(1));
}

}  // namespace tg
