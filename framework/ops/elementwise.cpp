#include "framework/ops/elementwise.h"

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/tape.h"

namespace tg {

// ---- binary, broadcasting ----

// Checks and runs a binary kernel: same device, same dtype, broadcastable shapes.
static Tensor binary_forward(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check_defined(a, name);
  check_defined(b, name);
  check_same_device(a, b, name);
  check(a.dtype() == b.dtype(), name, ": dtypes differ (", a.dtype(), " ", a.shape(), " and ",
        b.dtype(), " ", b.shape(), "); convert one with .to(DType)");
  if (a.shape() != b.shape()) broadcast_shapes(a.shape(), b.shape(), name);  // throws if not
  return backend_of(a).binary(op, a, b);
}

// Only float32 results can be recorded; int32 arithmetic (lengths, ids) just computes.
static bool recordable(const Tensor& out) { return out.dtype() == DType::Float32; }

// d(a+b) = (gy, gy). The engine sums each back to its input's shape.
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("add", BinaryOp::Add, a, b);
  if (!recordable(y)) return y;
  return record("add", {a, b}, y, {}, [](const Saved&, const Tensor& gy) -> Grads {
    return {gy, gy};
  });
}

// d(a-b) = (gy, -gy)
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("sub", BinaryOp::Sub, a, b);
  if (!recordable(y)) return y;
  return record("sub", {a, b}, y, {}, [](const Saved&, const Tensor& gy) -> Grads {
    return {gy, neg(gy)};
  });
}

// d(a*b) = (gy*b, gy*a). Each side saves only what the other side's gradient needs, so
// x * constant_mask (dropout) keeps just the mask.
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("mul", BinaryOp::Mul, a, b);
  if (!recordable(y)) return y;
  Saved saved{a.requires_grad() ? b : Tensor(), b.requires_grad() ? a : Tensor()};
  return record("mul", {a, b}, y, std::move(saved), [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& b_for_ga = s[0];
    const Tensor& a_for_gb = s[1];
    return {b_for_ga.defined() ? gy * b_for_ga : Tensor(),
            a_for_gb.defined() ? gy * a_for_gb : Tensor()};
  });
}

// d(a/b) = (gy/b, -gy*a/b^2) = (gy/b, -gy*y/b)
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward("div", BinaryOp::Div, a, b);
  if (!recordable(y)) return y;
  return record("div", {a, b}, y, {b, y}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor& b = s[0];
    const Tensor& y = s[1];
    const Tensor ga = gy / b;
    return {ga, neg(ga * y)};
  });
}

// max(a,b): the gradient goes to the larger input; on a tie each gets half.
static Tensor extremum(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(name, op, a, b);
  if (!recordable(y)) return y;
  return record(name, {a, b}, y, {a, b, y}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor a_wins = eq(s[0], s[2]).to(DType::Float32);
    const Tensor b_wins = eq(s[1], s[2]).to(DType::Float32);
    const Tensor share = gy / (a_wins + b_wins);
    return {share * a_wins, share * b_wins};
  });
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", BinaryOp::Maximum, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", BinaryOp::Minimum, a, b);
}

Tensor eq(const Tensor& a, const Tensor& b) { return binary_forward("eq", BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_forward("ne", BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_forward("lt", BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_forward("le", BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_forward("gt", BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_forward("ge", BinaryOp::Ge, a, b); }

// ---- selection ----

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  for (const Tensor* t : {&cond, &a, &b}) check_defined(*t, "where");
  check_float(a, "where");
  check_float(b, "where");
  check_same_device(cond, a, "where");
  check_same_device(a, b, "where");
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor y = backend_of(a).where(cond, a, b, shape);
  return record("where", {a, b}, y, {cond}, [](const Saved& s, const Tensor& gy) -> Grads {
    const Tensor zero = zeros({}, DType::Float32, gy.device());
    return {where(s[0], gy, zero), where(s[0], zero, gy)};
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  return where(mask, full({}, value, DType::Float32, x.device()), x);
}

// ---- operators ----

static Tensor scalar_like(float value, const Tensor& like) {
  return full({}, value, like.dtype(), like.device());
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, float b) { return add(a, scalar_like(b, a)); }
Tensor operator-(const Tensor& a, float b) { return sub(a, scalar_like(b, a)); }
Tensor operator*(const Tensor& a, float b) { return mul(a, scalar_like(b, a)); }
Tensor operator/(const Tensor& a, float b) { return div(a, scalar_like(b, a)); }
Tensor operator+(float a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(float a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(float a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(float a, const Tensor& b) { return div(scalar_like(a, b), b); }

}  // namespace tg
