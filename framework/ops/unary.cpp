// Unary ops. Each is written the same way: check, one forward kernel, then record() with what
// backward keeps (x or y, whichever the derivative is cheaper from) and the derivative written
// as tensor ops (nothing records while backward runs). Derivatives that tensor ops would
// compose only at several passes over memory (GELU's) get a kernel of their own, named for the
// function it computes, and the formula stays here.
#include "framework/ops/unary.h"

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/ops/elementwise.h"
#include "framework/tape.h"

namespace tg {

static Tensor zero_on(const Tensor& like) { return full({}, 0.0f, DType::Float32, like.device()); }

// y = -x;   dy/dx = -1
Tensor neg(const Tensor& x) {
  check_float(x, "neg");
  Tensor y = backend_of(x).unary(UnaryOp::Neg, x, 0, 0);
  return record("neg", {x}, y, /*saved=*/{},
                [](const Saved&, const Tensor& gy) -> Grads { return {-gy}; });
}

// y = e^x;   dy/dx = e^x = y
Tensor exp(const Tensor& x) {
  check_float(x, "exp");
  Tensor y = backend_of(x).unary(UnaryOp::Exp, x, 0, 0);
  return record("exp", {x}, y, /*saved=*/{y}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& y = s[0];
    return {gy * y};
  });
}

// y = ln x;   dy/dx = 1 / x
Tensor log(const Tensor& x) {
  check_float(x, "log");
  Tensor y = backend_of(x).unary(UnaryOp::Log, x, 0, 0);
  return record("log", {x}, y, /*saved=*/{x}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& x = s[0];
    return {gy / x};
  });
}

// y = sqrt(x);   dy/dx = 1 / (2 sqrt(x)) = 0.5 / y
Tensor sqrt(const Tensor& x) {
  check_float(x, "sqrt");
  Tensor y = backend_of(x).unary(UnaryOp::Sqrt, x, 0, 0);
  return record("sqrt", {x}, y, /*saved=*/{y}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& y = s[0];
    return {gy * 0.5f / y};
  });
}

// y = x^a;   dy/dx = a x^(a-1)
Tensor pow(const Tensor& x, float exponent) {
  check_float(x, "pow");
  Tensor y = backend_of(x).unary(UnaryOp::Pow, x, exponent, 0);
  return record("pow", {x}, y, /*saved=*/{x},
                [a = exponent](const Saved& s, const Tensor& gy) -> Grads {
                  const Tensor& x = s[0];
                  return {gy * (a * pow(x, a - 1.0f))};
                });
}

// y = tanh(x);   dy/dx = 1 - y^2
Tensor tanh(const Tensor& x) {
  check_float(x, "tanh");
  Tensor y = backend_of(x).unary(UnaryOp::Tanh, x, 0, 0);
  return record("tanh", {x}, y, /*saved=*/{y}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& y = s[0];
    return {gy * (1.0f - y * y)};  // one gradient per input
  });
}

// y = 1 / (1 + e^-x);   dy/dx = y (1 - y)
Tensor sigmoid(const Tensor& x) {
  check_float(x, "sigmoid");
  Tensor y = backend_of(x).unary(UnaryOp::Sigmoid, x, 0, 0);
  return record("sigmoid", {x}, y, /*saved=*/{y}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& y = s[0];
    return {gy * y * (1.0f - y)};
  });
}

// y = max(x, 0);   dy/dx = 1 where x > 0, else 0 (0 at the kink, as PyTorch)
Tensor relu(const Tensor& x) {
  check_float(x, "relu");
  Tensor y = backend_of(x).unary(UnaryOp::Relu, x, 0, 0);
  return record("relu", {x}, y, /*saved=*/{x}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& x = s[0];
    const Tensor zero = zero_on(x);
    return {where(gt(x, zero), gy, zero)};
  });
}

// y = x Phi(x);   dy/dx = Phi(x) + x phi(x)
// Phi and phi are the standard normal CDF and density: Phi(x) = (1 + erf(x / sqrt 2)) / 2,
// phi(x) = exp(-x^2 / 2) / sqrt(2 pi). Composed from tensor ops that is six passes over x; the
// GeluDerivative kernel computes Phi(x) + x phi(x) in one.
Tensor gelu(const Tensor& x) {
  check_float(x, "gelu");
  Tensor y = backend_of(x).unary(UnaryOp::Gelu, x, 0, 0);
  return record("gelu", {x}, y, /*saved=*/{x}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& x = s[0];
    return {gy * backend_of(x).unary(UnaryOp::GeluDerivative, x, 0, 0)};
  });
}

// y = |x|;   dy/dx = sign(x) (0 at 0)
Tensor abs(const Tensor& x) {
  check_float(x, "abs");
  Tensor y = backend_of(x).unary(UnaryOp::Abs, x, 0, 0);
  return record("abs", {x}, y, /*saved=*/{x}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& x = s[0];
    return {gy * backend_of(x).unary(UnaryOp::Sign, x, 0, 0)};
  });
}

// y = min(max(x, low), high);   dy/dx = 1 inside [low, high] (bounds included), else 0
Tensor clamp(const Tensor& x, float low, float high) {
  check_float(x, "clamp");
  check(low <= high, "clamp: low (", low, ") must not exceed high (", high, ")");
  Tensor y = backend_of(x).unary(UnaryOp::Clamp, x, low, high);
  return record("clamp", {x}, y, /*saved=*/{x},
                [low, high](const Saved& s, const Tensor& gy) -> Grads {
                  const Tensor& x = s[0];
                  const Tensor inside = ge(x, full({}, low, DType::Float32, x.device())) *
                                        le(x, full({}, high, DType::Float32, x.device()));
                  return {where(inside, gy, zero_on(x))};
                });
}

}  // namespace tg
