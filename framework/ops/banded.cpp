// The banded products and their derivatives. With P[i, j] the band seen as a full matrix
// (zero off the band) and B^T the band of its transpose (Backend::band_transpose):
//
//   s = band_dot(a, b):           s = a b^T on the band
//     da[i] = sum_t g[i, t] b[i - w + t]            = band_weighted_sum(g, b)
//     db[j] = sum_i g[i, j - i + w] a[i]            = band_weighted_sum(g^T, a)
//   o = band_weighted_sum(p, v):  o = P v
//     dp[i, t] = g[i] . v[i - w + t]                = band_dot(g, v)
//     dv[j] = sum_i p[i, j - i + w] g[i]            = band_weighted_sum(p^T, g)
//
// so backward runs the same three kernels as forward, on bands again: no [L, L] anywhere.
#include "framework/ops/banded.h"

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/tape.h"

namespace tg {
namespace {

void check_window(int64_t window, const char* op) {
  check(window >= 0, op, ": window must be >= 0, got ", window);
}

// [..., L, width] with at least the two dims.
void check_sequence(const Tensor& x, const char* op, const char* name) {
  check_float(x, op);
  check(x.dim() >= 2, op, ": ", name, " must be [..., L, features], got shape ", x.shape());
}

}  // namespace

Tensor band_dot(const Tensor& a, const Tensor& b, int64_t window) {
  const char* op = "band_dot";
  check_sequence(a, op, "a");
  check_sequence(b, op, "b");
  check_same_device(a, b, op);
  check(a.shape() == b.shape(), op, ": a and b must have the same shape [..., L, d], got ",
        a.shape(), " and ", b.shape());
  check_window(window, op);
  Tensor s = backend_of(a).band_dot(a, b, window);
  return record(op, {a, b}, s, /*saved=*/{a, b}, [window](const Saved& saved, const Tensor& g) {
    Backend& backend = backend_of(g);
    const Tensor &a = saved[0], &b = saved[1];
    return Grads{backend.band_weighted_sum(g, b, window),
                 backend.band_weighted_sum(backend.band_transpose(g, window), a, window)};
  });
}

Tensor band_weighted_sum(const Tensor& weights, const Tensor& v, int64_t window) {
  const char* op = "band_weighted_sum";
  check_sequence(weights, op, "weights");
  check_sequence(v, op, "v");
  check_same_device(weights, v, op);
  check_window(window, op);
  Shape expected = v.shape();
  expected.back() = 2 * window + 1;
  check(weights.shape() == expected, op, ": weights must be [..., L, 2w+1] = ", expected,
        " for v of shape ", v.shape(), " and window ", window, ", got ", weights.shape());
  Tensor out = backend_of(v).band_weighted_sum(weights, v, window);
  return record(
      op, {weights, v}, out, /*saved=*/{weights, v}, [window](const Saved& saved, const Tensor& g) {
        Backend& backend = backend_of(g);
        const Tensor &p = saved[0], &v = saved[1];
        return Grads{backend.band_dot(g, v, window),
                     backend.band_weighted_sum(backend.band_transpose(p, window), g, window)};
      });
}

}  // namespace tg
