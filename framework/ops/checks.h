// Input checks shared by the ops: each throws tg::Error naming the op.
#pragma once

#include "framework/backend/backend.h"
#include "framework/tensor.h"

namespace tg {

inline void check_defined(const Tensor& x, const char* op) {
  check(x.defined(), op, ": got an undefined tensor");
}

inline void check_float(const Tensor& x, const char* op) {
  check_defined(x, op);
  check(x.dtype() == DType::Float32, op, ": expected a float32 tensor, got ", to_string(x.dtype()),
        " ", x.shape());
}

inline void check_int(const Tensor& x, const char* op, const char* what) {
  check_defined(x, op);
  check(x.dtype() == DType::Int32, op, ": ", what, " must be int32, got ", to_string(x.dtype()));
}

inline void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  check(a.device() == b.device(), op, ": tensors on different devices (", a.device(), " and ",
        b.device(), "); move one with .to()");
}

// Every value of an int32 tensor allowed by `range`, without copying it to the host: the CPU
// checks at once, a GPU at its next host copy (see Backend::check_range).
inline void check_values(const Tensor& values, const RangeCheck& range) {
  if (values.numel() > 0) backend_of(values).check_range(values, range);
}

}  // namespace tg
