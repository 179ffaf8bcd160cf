// Elementwise kernels: unary functions, broadcasting binary ops, where.
#include <algorithm>
#include <cmath>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_broadcast.h"
#include "framework/backend/cpu/cpu_math.h"
#include "framework/backend/cpu/cpu_vector.h"

namespace tg {

// f(i) for i in [0, n), on several threads when n is large. The small case is a plain loop,
// not an OpenMP region with a false if-clause: entering the OpenMP runtime at all costs about a
// microsecond, more than a small op's arithmetic.
template <class F>
static void parallel_map(int64_t n, F f) {
  if (n < kParallelThreshold) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for
  for (int64_t i = 0; i < n; ++i) f(i);
}

// y = op(x) over n contiguous floats: the arithmetic of unary(), one plain loop per op.
TG_VECTOR_KERNEL static void unary_span(UnaryOp op, const float* in, float* y, int64_t n, float a,
                                        float b) {
  switch (op) {
    case UnaryOp::Neg:
      for (int64_t i = 0; i < n; ++i) y[i] = -in[i];
      break;
    case UnaryOp::Exp:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_exp(in[i]);
      break;
    case UnaryOp::Log:
      for (int64_t i = 0; i < n; ++i) y[i] = std::log(in[i]);
      break;
    case UnaryOp::Sqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(in[i]);
      break;
    case UnaryOp::Tanh:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_tanh(in[i]);
      break;
    case UnaryOp::Sigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_sigmoid(in[i]);
      break;
    case UnaryOp::Relu:
      for (int64_t i = 0; i < n; ++i) y[i] = in[i] > 0 ? in[i] : 0.0f;
      break;
    case UnaryOp::Gelu:  // x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2
      for (int64_t i = 0; i < n; ++i) y[i] = in[i] * normal_cdf_pdf(in[i]).cdf;
      break;
    case UnaryOp::Abs:
      for (int64_t i = 0; i < n; ++i) y[i] = std::fabs(in[i]);
      break;
    case UnaryOp::Pow:
      for (int64_t i = 0; i < n; ++i) y[i] = std::pow(in[i], a);
      break;
    case UnaryOp::Clamp:
      for (int64_t i = 0; i < n; ++i) y[i] = std::fmin(std::fmax(in[i], a), b);
      break;
    case UnaryOp::Sign:
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>((in[i] > 0) - (in[i] < 0));
      break;
    case UnaryOp::GeluDerivative:  // Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)
      for (int64_t i = 0; i < n; ++i) {
        const NormalCdfPdf normal = normal_cdf_pdf(in[i]);
        y[i] = normal.cdf + in[i] * normal.pdf;
      }
      break;
  }
}

// span(begin, end) over [0, n) in chunks, on several threads when n is large.
template <class Span>
static void parallel_spans(int64_t n, Span span) {
  if (n < kParallelThreshold) {
    span(0, n);
    return;
  }
  constexpr int64_t kChunk = 4096;
#pragma omp parallel for
  for (int64_t begin = 0; begin < n; begin += kChunk) span(begin, std::min(n, begin + kChunk));
}

Tensor CpuBackend::unary(UnaryOp op, const Tensor& x, float a, float b) {
  Tensor out = empty(x.shape(), DType::Float32, Device::CPU);
  const float* in = x.data<float>();
  float* y = out.data<float>();
  parallel_spans(x.numel(), [&](int64_t begin, int64_t end) {
    unary_span(op, in + begin, y + begin, end - begin, a, b);
  });
  return out;
}

// out = f(a, b) with broadcasting. Fast paths for equal shapes and a one-element side; the
// general path walks rows of the output (its last dim) with per-input broadcast strides.
template <class In, class Out, class F>
static void broadcast_binary(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const In* pa = a.data<In>();
  const In* pb = b.data<In>();
  Out* po = out.data<Out>();
  const int64_t n = out.numel();
  if (a.shape() == b.shape()) {
    parallel_map(n, [&](int64_t i) { po[i] = f(pa[i], pb[i]); });
  } else if (b.numel() == 1) {
    const In vb = pb[0];
    parallel_map(n, [&](int64_t i) { po[i] = f(pa[i], vb); });
  } else if (a.numel() == 1) {
    const In va = pa[0];
    parallel_map(n, [&](int64_t i) { po[i] = f(va, pb[i]); });
  } else {
    const Shape& shape = out.shape();
    const auto sa = broadcast_strides(a.shape(), shape), sb = broadcast_strides(b.shape(), shape);
    const int64_t cols = shape.back(), rows = n / std::max<int64_t>(cols, 1);
    const int64_t step_a = sa.back(), step_b = sb.back();
#pragma omp parallel for if (n >= kParallelThreshold)
    for (int64_t r = 0; r < rows; ++r) {
      const In* ra = pa + row_offset(r, shape, sa);
      const In* rb = pb + row_offset(r, shape, sb);
      Out* ro = po + r * cols;
      for (int64_t c = 0; c < cols; ++c) ro[c] = f(ra[c * step_a], rb[c * step_b]);
    }
  }
}

template <class T>
static void binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  using Mask = int32_t;
  switch (op) {
    case BinaryOp::Add:
      broadcast_binary<T, T>(a, b, out, [](T x, T y) { return x + y; });
      break;
    case BinaryOp::Sub:
      broadcast_binary<T, T>(a, b, out, [](T x, T y) { return x - y; });
      break;
    case BinaryOp::Mul:
      broadcast_binary<T, T>(a, b, out, [](T x, T y) { return x * y; });
      break;
    case BinaryOp::Div:
      broadcast_binary<T, T>(a, b, out, [](T x, T y) { return x / y; });
      break;
    case BinaryOp::Maximum:
      broadcast_binary<T, T>(a, b, out, [](T x, T y) { return x > y ? x : y; });
      break;
    case BinaryOp::Minimum:
      broadcast_binary<T, T>(a, b, out, [](T x, T y) { return x < y ? x : y; });
      break;
    case BinaryOp::Eq:
      broadcast_binary<T, Mask>(a, b, out, [](T x, T y) { return Mask(x == y); });
      break;
    case BinaryOp::Ne:
      broadcast_binary<T, Mask>(a, b, out, [](T x, T y) { return Mask(x != y); });
      break;
    case BinaryOp::Lt:
      broadcast_binary<T, Mask>(a, b, out, [](T x, T y) { return Mask(x < y); });
      break;
    case BinaryOp::Le:
      broadcast_binary<T, Mask>(a, b, out, [](T x, T y) { return Mask(x <= y); });
      break;
    case BinaryOp::Gt:
      broadcast_binary<T, Mask>(a, b, out, [](T x, T y) { return Mask(x > y); });
      break;
    case BinaryOp::Ge:
      broadcast_binary<T, Mask>(a, b, out, [](T x, T y) { return Mask(x >= y); });
      break;
  }
}

static bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

Tensor CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  // Equal shapes (the common case) build no broadcast shape: one heap allocation less per op.
  const DType dtype = is_comparison(op) ? DType::Int32 : a.dtype();
  Tensor out = a.shape() == b.shape()
                   ? empty(a.shape(), dtype, Device::CPU)
                   : empty(broadcast_shapes(a.shape(), b.shape(), "binary"), dtype, Device::CPU);
  if (out.numel() == 0) return out;
  if (a.dtype() == DType::Float32)
    binary_kernel<float>(op, a, b, out);
  else
    binary_kernel<int32_t>(op, a, b, out);
  return out;
}

void CpuBackend::accumulate(const Tensor& dst, const Tensor& src) {
  float* out = dst.data<float>();
  const float* in = src.data<float>();
  parallel_map(dst.numel(), [&](int64_t i) { out[i] += in[i]; });
}

namespace {

// A branch of where, read at element i: one value for every i, or the elements of a tensor.
struct OneValue {
  float value;
  float operator()(int64_t) const { return value; }
};
struct Elements {
  const float* data;
  float operator()(int64_t i) const { return data[i]; }
};

// out[i] = cond[i] != 0 ? a(i) : b(i), with each branch one value or elements.
template <class Cond>
void select_branches(const Cond* cond, const float* a, bool a_single, const float* b, bool b_single,
                     float* out, int64_t n) {
  // Both branches are read before the choice: a select the compiler vectorises, where reading
  // only the chosen one was a branch per element (mispredicted half the time under relu).
  const auto run = [cond, out, n](auto a_at, auto b_at) {
    parallel_map(n, [cond, out, a_at, b_at](int64_t i) {
      const float if_true = a_at(i), if_false = b_at(i);
      out[i] = cond[i] != 0 ? if_true : if_false;
    });
  };
  if (a_single && b_single)
    run(OneValue{*a}, OneValue{*b});
  else if (a_single)
    run(OneValue{*a}, Elements{b});
  else if (b_single)
    run(Elements{a}, OneValue{*b});
  else
    run(Elements{a}, Elements{b});
}

}  // namespace

// A one-element branch (the zero of relu's and clamp's gradients, of where(keep, g, 0), and of
// where's own gradient) is read as one value; any other is expanded to the output's shape.
Tensor CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b,
                         const Shape& out_shape) {
  const Tensor c = cond.shape() == out_shape ? cond : expand(cond, out_shape);
  Tensor out = empty(out_shape, DType::Float32, Device::CPU);
  const int64_t n = out.numel();
  const bool a_single = a.numel() == 1 && n > 1, b_single = b.numel() == 1 && n > 1;
  const Tensor x = a_single || a.shape() == out_shape ? a : expand(a, out_shape);
  const Tensor y = b_single || b.shape() == out_shape ? b : expand(b, out_shape);
  if (c.dtype() == DType::Int32)
    select_branches(c.data<int32_t>(), x.data<float>(), a_single, y.data<float>(), b_single,
                    out.data<float>(), n);
  else
    select_branches(c.data<float>(), x.data<float>(), a_single, y.data<float>(), b_single,
                    out.data<float>(), n);
  return out;
}

}  // namespace tg
