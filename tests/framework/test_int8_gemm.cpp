// The int8 matrix product: every kernel this CPU runs (scalar, AVX2, AVX-512 VNNI) against a
// plain triple loop written here, exactly (integers), on shapes that leave partial tiles, and on
// the extremes +-127 where a careless AVX2 kernel saturates its int16 pair sums.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "framework/backend/cpu/int8_gemm.h"
#include "framework/random.h"
#include "framework/tensor.h"

using namespace tg;

namespace {

struct Int8Problem {
  int64_t m, n, k, stride;
  std::vector<int8_t> a, b;  // [m, stride], [n, stride], zero padded
};

Int8Problem random_problem(int64_t m, int64_t n, int64_t k, uint64_t seed) {
  Generator gen(seed);
  const int64_t stride = int8_row_stride(k);
  Int8Problem p{m, n, k, stride, std::vector<int8_t>(m * stride), std::vector<int8_t>(n * stride)};
  const std::vector<float> u = uniform({m * k + n * k}, 0, 1, gen).to_vector<float>();
  size_t next = 0;
  const auto value = [&] { return static_cast<int8_t>(static_cast<int>(u[next++] * 255) - 127); };
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c = 0; c < k; ++c) p.a[i * stride + c] = value();
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < k; ++c) p.b[j * stride + c] = value();
  return p;
}

std::vector<int32_t> triple_loop(const Int8Problem& p) {
  std::vector<int32_t> c(p.m * p.n);
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j)
      for (int64_t x = 0; x < p.k; ++x)
        c[i * p.n + j] += int32_t{p.a[i * p.stride + x]} * int32_t{p.b[j * p.stride + x]};
  return c;
}

std::vector<int32_t> run(Int8Kernel kernel, const Int8Problem& p) {
  std::vector<int32_t> c(p.m * p.n, -1);
  int8_gemm_nt(kernel, p.m, p.n, p.stride, p.a.data(), p.b.data(), c.data());
  return c;
}

std::vector<Int8Kernel> kernels_this_cpu_runs() {
  std::vector<Int8Kernel> kernels;
  for (Int8Kernel kernel : {Int8Kernel::Scalar, Int8Kernel::Avx2, Int8Kernel::Avx512Vnni})
    if (cpu_runs(kernel)) kernels.push_back(kernel);
  return kernels;
}

}  // namespace

TEST_CASE("int8 rows are padded to whole 64-byte vectors") {
  CHECK(int8_row_stride(1) == 64);
  CHECK(int8_row_stride(64) == 64);
  CHECK(int8_row_stride(65) == 128);
  CHECK(int8_row_stride(784) == 832);
}

TEST_CASE("every int8 kernel this CPU runs computes the exact integer product") {
  MESSAGE("int8 kernel chosen on this CPU: ", std::string(to_string(best_int8_kernel())));
  CHECK(cpu_runs(best_int8_kernel()));
  const int64_t shapes[][3] = {{1, 1, 1},   {3, 5, 70},    {7, 13, 130},
                               {2, 4, 128}, {64, 37, 784}, {33, 100, 300}};
  uint64_t seed = 1;
  for (const auto& [m, n, k] : shapes) {
    const Int8Problem p = random_problem(m, n, k, seed++);
    const std::vector<int32_t> want = triple_loop(p);
    for (Int8Kernel kernel : kernels_this_cpu_runs()) {
      INFO(to_string(kernel), " on ", m, " x ", n, " x ", k);
      CHECK(run(kernel, p) == want);
    }
  }
}

TEST_CASE("int8 kernels do not saturate at the extremes of -127 and 127") {
  // Every product is -127 * 127 or 127 * 127; AVX2's pair sums reach 2 * 127^2 = 32258.
  const int64_t m = 5, n = 6, k = 1000;
  Int8Problem p{m, n, k, int8_row_stride(k), {}, {}};
  p.a.assign(m * p.stride, 0);
  p.b.assign(n * p.stride, 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c = 0; c < k; ++c) p.a[i * p.stride + c] = i % 2 ? 127 : -127;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < k; ++c) p.b[j * p.stride + c] = 127;
  for (Int8Kernel kernel : kernels_this_cpu_runs()) {
    INFO(to_string(kernel));
    const std::vector<int32_t> c = run(kernel, p);
    CHECK(c[0] == -127 * 127 * 1000);
    CHECK(c[n] == 127 * 127 * 1000);
    CHECK(c == triple_loop(p));
  }
}
