#include "layers/init.h"

#include <vector>

#include "framework/backend/backend.h"

namespace tg::init {

namespace {

void check_fillable(const Tensor& t, const char* op) {
  check(t.defined(), "init::", op, ": got an undefined tensor");
  check(t.dtype() == DType::Float32, "init::", op, ": expected a float32 tensor, got ",
        to_string(t.dtype()), " ", t.shape());
}

// Draws element i from Philox(seed, offset + i) straight into t's storage, exactly as
// tg::uniform / tg::randn would into a fresh tensor.
void fill_random(Tensor& t, RandomKind kind, float a, float b, Generator& gen) {
  const uint64_t offset = gen.advance(static_cast<uint64_t>(t.numel()));
  if (t.numel() > 0) backend_of(t).random(t, kind, a, b, gen.seed(), offset);
}

}  // namespace

Fans fans_of(const Tensor& t) {
  check(t.defined() && t.dim() >= 2,
        "init: fan in and fan out need a tensor with at least 2 "
        "dims ([out, in, ...]), got ",
        t.defined() ? to_string(t.shape()) : std::string("an undefined tensor"));
  int64_t receptive_field = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive_field *= t.size(d);
  return {t.size(1) * receptive_field, t.size(0) * receptive_field};
}

void uniform_(Tensor& t, float low, float high, Generator& gen) {
  check_fillable(t, "uniform_");
  check(low <= high, "init::uniform_: low (", low, ") must not exceed high (", high, ")");
  fill_random(t, RandomKind::Uniform, low, high, gen);
}

void normal_(Tensor& t, float mean, float std, Generator& gen) {
  check_fillable(t, "normal_");
  check(std >= 0.0f, "init::normal_: std must be >= 0, got ", std);
  fill_random(t, RandomKind::Normal, mean, std, gen);
}

void constant_(Tensor& t, float value) {
  check_fillable(t, "constant_");
  if (t.numel() > 0) backend_of(t).fill(t, value);
}
void zeros_(Tensor& t) { constant_(t, 0.0f); }
void ones_(Tensor& t) { constant_(t, 1.0f); }

void xavier_uniform_(Tensor& t, Generator& gen, float gain) {
  const Fans fans = fans_of(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fans.in + fans.out));
  uniform_(t, static_cast<float>(-bound), static_cast<float>(bound), gen);
}

void xavier_normal_(Tensor& t, Generator& gen, float gain) {
  const Fans fans = fans_of(t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fans.in + fans.out));
  normal_(t, 0.0f, static_cast<float>(std), gen);
}

static double kaiming_std(const Tensor& t, float a) {
  const double gain = std::sqrt(2.0 / (1.0 + static_cast<double>(a) * a));
  return gain / std::sqrt(static_cast<double>(fans_of(t).in));
}

void kaiming_uniform_(Tensor& t, Generator& gen, float a) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a);
  uniform_(t, static_cast<float>(-bound), static_cast<float>(bound), gen);
}

void kaiming_normal_(Tensor& t, Generator& gen, float a) {
  normal_(t, 0.0f, static_cast<float>(kaiming_std(t, a)), gen);
}

void orthogonal_(Tensor& t, Generator& gen, float gain) {
  check_fillable(t, "orthogonal_");
  check(t.dim() >= 2 && t.numel() > 0,
        "init::orthogonal_: needs a non-empty tensor with at least 2 dims, got ", t.shape());
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  const std::vector<float> gaussian = randn({rows, cols}, gen).to_vector<float>();

  // Orthonormalise `count` vectors of length `length`: the rows of the matrix when it is wide,
  // its columns when it is tall. element(v, i) addresses component i of vector v.
  const bool wide = rows <= cols;
  const int64_t count = wide ? rows : cols, length = wide ? cols : rows;
  auto index = [&](int64_t v, int64_t i) { return wide ? v * cols + i : i * cols + v; };
  std::vector<double> m(gaussian.begin(), gaussian.end());

  // Modified Gram-Schmidt, applied twice ("twice is enough", Giraud et al. 2005) so that the
  // vectors stay orthogonal to double precision even when the Gaussian draw is ill-conditioned.
  // Each v_j loses its components along v_0..v_{j-1} and is scaled to unit length; that is
  // A = QR with R_jj = |v_j| > 0, the sign convention that makes Q Haar-distributed.
  for (int64_t j = 0; j < count; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        double dot = 0;
        for (int64_t i = 0; i < length; ++i) dot += m[index(k, i)] * m[index(j, i)];
        for (int64_t i = 0; i < length; ++i) m[index(j, i)] -= dot * m[index(k, i)];
      }
    }
    double norm = 0;
    for (int64_t i = 0; i < length; ++i) norm += m[index(j, i)] * m[index(j, i)];
    norm = std::sqrt(norm);
    check(norm > 1e-12, "init::orthogonal_: the Gaussian draw was rank deficient");
    for (int64_t i = 0; i < length; ++i) m[index(j, i)] /= norm;
  }

  std::vector<float> values(m.size());
  for (size_t i = 0; i < m.size(); ++i) values[i] = static_cast<float>(gain * m[i]);
  backend_of(t).copy_from_host(t, values.data());
}

}  // namespace tg::init
