// Tensor creation: filled, ranged, copied from host vectors, random. Declared in tensor.h (the
// creation functions every user needs); defined here because each runs a kernel on its device.
#include <algorithm>
#include <cmath>

#include "framework/backend/backend.h"
#include "framework/random.h"
#include "framework/tensor.h"

namespace tg {

Tensor full(const Shape& shape, float value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (t.numel() > 0) backend_for(device).fill(t, value);
  return t;
}
Tensor zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0, dtype, device);
}
Tensor ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1, dtype, device);
}
Tensor scalar(float value, Device device) { return full({}, value, DType::Float32, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }

Tensor arange(int64_t n, DType dtype, Device device) {
  check(n >= 0, "arange: n must be >= 0, got ", n);
  Tensor t = empty({n}, dtype, device);
  if (n > 0) backend_for(device).arange(t, 0, 1);
  return t;
}

Tensor arange(float start, float end, float step, DType dtype, Device device) {
  check(step != 0, "arange: step must not be 0");
  const double count = std::ceil((static_cast<double>(end) - start) / step);
  Tensor t = empty({std::max<int64_t>(0, static_cast<int64_t>(count))}, dtype, device);
  if (t.numel() > 0) backend_for(device).arange(t, start, step);
  return t;
}

template <class T>
static Tensor tensor_from(const std::vector<T>& values, const Shape& shape, DType dtype,
                          Device device) {
  check(static_cast<int64_t>(values.size()) == numel_of(shape), "from_vector: ", values.size(),
        " values do not fill shape ", shape, " (", numel_of(shape), " elements)");
  Tensor t = empty(shape, dtype, device);
  if (!values.empty()) backend_for(device).copy_from_host(t, values.data());
  return t;
}
Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  return tensor_from(values, shape, DType::Float32, device);
}
Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape, Device device) {
  return tensor_from(values, shape, DType::Int32, device);
}
Tensor from_vector(std::initializer_list<float> values, const Shape& shape, Device device) {
  return tensor_from(std::vector<float>(values), shape, DType::Float32, device);
}

static Tensor random_tensor(const Shape& shape, RandomKind kind, float a, float b, Generator& gen,
                            Device device) {
  Tensor t = empty(shape, DType::Float32, device);
  const uint64_t offset = gen.advance(static_cast<uint64_t>(t.numel()));
  if (t.numel() > 0) backend_for(device).random(t, kind, a, b, gen.seed(), offset);
  return t;
}
Tensor randn(const Shape& shape, Generator& gen, float mean, float stddev, Device device) {
  return random_tensor(shape, RandomKind::Normal, mean, stddev, gen, device);
}
Tensor uniform(const Shape& shape, float low, float high, Generator& gen, Device device) {
  check(low <= high, "uniform: low (", low, ") must not exceed high (", high, ")");
  return random_tensor(shape, RandomKind::Uniform, low, high, gen, device);
}
Tensor bernoulli(const Shape& shape, float p, Generator& gen, Device device, float value) {
  check(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1], got ", p);
  return random_tensor(shape, RandomKind::Bernoulli, p, value, gen, device);
}

}  // namespace tg
