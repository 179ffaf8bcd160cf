#include <doctest/doctest.h>

#include <thread>

#include "framework/backend/cuda_status.h"
#include "framework/recycling.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::check_values;

TEST_CASE("creation: zeros, ones, full, arange, from_vector") {
  check_values(zeros({2, 2}), {0, 0, 0, 0});
  check_values(ones({3}), {1, 1, 1});
  check_values(full({2}, 2.5f), {2.5f, 2.5f});
  const Tensor ids = arange(4);
  CHECK(ids.dtype() == DType::Int32);
  CHECK(ids.to_vector<int32_t>() == std::vector<int32_t>{0, 1, 2, 3});
  check_values(arange(1.0f, 2.0f, 0.25f), {1.0f, 1.25f, 1.5f, 1.75f});
  const Tensor t = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.size(-1) == 3);
  CHECK(t.dim() == 2);
  CHECK(scalar(3).item() == 3.0f);
}

TEST_CASE("creation errors name the function") {
  CHECK_THROWS_WITH_AS(from_vector({1, 2, 3}, {2, 2}), doctest::Contains("from_vector: 3 values"),
                       Error);
  CHECK_THROWS_WITH_AS(zeros({2, 2}).item(), doctest::Contains("item: tensor has 4 elements"),
                       Error);
  CHECK_THROWS_WITH_AS(zeros({2}).to_vector<int32_t>(),
                       doctest::Contains("to_vector: tensor is float32, asked for int32"), Error);
  Generator gen(1);
  CHECK_THROWS_WITH_AS(bernoulli({2}, 1.5f, gen), doctest::Contains("bernoulli: p must be"), Error);
  CHECK_THROWS_WITH_AS(arange(0.0f, 1.0f, 0.0f), doctest::Contains("arange: step"), Error);
  CHECK_THROWS_WITH_AS(zeros({2}).size(2), doctest::Contains("size: dim 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(Tensor().shape(), doctest::Contains("undefined tensor"), Error);
}

TEST_CASE("random tensors: the same seed gives the same numbers, streams do not overlap") {
  Generator a(42), b(42);
  const Tensor x = randn({1000}, a);
  CHECK(x.to_vector<float>() == randn({1000}, b).to_vector<float>());
  const Tensor next = randn({1000}, a);  // the generator moved on
  CHECK(next.to_vector<float>() != x.to_vector<float>());
  // Moments of N(0, 1) over 10^5 samples: mean within 0.02, variance within 0.03.
  Generator g(7);
  const Tensor big = randn({100000}, g);
  CHECK(mean(big).item() == doctest::Approx(0).scale(1).epsilon(0.02));
  CHECK(var(big).item() == doctest::Approx(1).epsilon(0.03));
  const Tensor u = uniform({100000}, -1, 3, g);
  CHECK(min(u).item() >= -1.0f);
  CHECK(max(u).item() < 3.0f);
  CHECK(mean(u).item() == doctest::Approx(1).epsilon(0.02));
  CHECK(mean(bernoulli({100000}, 0.3f, g)).item() == doctest::Approx(0.3).epsilon(0.02));
  // With a value: that value with probability p, else 0 (dropout's kept scale 1 / (1 - p)).
  const Tensor scaled = bernoulli({100000}, 0.8f, g, Device::CPU, 1.25f);
  for (float x : scaled.to_vector<float>()) REQUIRE((x == 1.25f || x == 0.0f));
  CHECK(mean(scaled).item() == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("philox matches the published known-answer vector") {
  // Random123's kat_vectors: philox4x32-10 with counter 0 and key 0.
  const PhiloxWords words = philox4x32(0, 0);
  CHECK(words.w[0] == 0x6627e8d5u);
  CHECK(words.w[1] == 0xe169c58du);
  CHECK(words.w[2] == 0xbc57ac4cu);
  CHECK(words.w[3] == 0x9b00dbd8u);
}

TEST_CASE("views share storage, detach and clone") {
  const Tensor x = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor v = x.reshape({3, 2});
  CHECK(v.storage() == x.storage());
  CHECK(x.unsqueeze(0).shape() == Shape{1, 2, 3});
  CHECK(x.unsqueeze(0).squeeze(0).shape() == Shape{2, 3});
  CHECK(x.flatten().shape() == Shape{6});
  CHECK(x.reshape({-1}).shape() == Shape{6});
  v.data<float>()[0] = 10;  // writing through the view changes x
  CHECK(x.to_vector<float>()[0] == 10.0f);
  const Tensor c = x.clone();
  CHECK(c.storage() != x.storage());
  CHECK(c.to_vector<float>() == x.to_vector<float>());
  CHECK(x.detach().storage() == x.storage());
}

TEST_CASE("casts and printing") {
  const Tensor f = from_vector({1.7f, -2.2f}, {2});
  CHECK(f.to(DType::Int32).to_vector<int32_t>() == std::vector<int32_t>{1, -2});
  CHECK(arange(3).to(DType::Float32).to_vector<float>() == std::vector<float>{0, 1, 2});
  const std::string text = from_vector({1, 2, 3, 4}, {2, 2}).str();
  CHECK(text.find("float32 [2,2]") != std::string::npos);
  CHECK(text.find("4") != std::string::npos);
}

TEST_CASE("the CUDA device gives a clear error where no GPU is usable, a tensor where one is") {
  if (cuda_available()) {
    CHECK(zeros({2}, DType::Float32, Device::CUDA).device() == Device::CUDA);
    return;
  }
  CHECK_THROWS_WITH_AS(zeros({2}, DType::Float32, Device::CUDA), doctest::Contains("device cuda"),
                       Error);
}

TEST_CASE("the caching allocator reuses freed buffers") {
  // A warm loop of identically sized tensors reaches malloc no more.
  for (int i = 0; i < 3; ++i) (void)zeros({123, 7});
  Tensor kept = zeros({123, 7});
  const void* first = kept.raw_data();
  kept = Tensor();
  CHECK(zeros({123, 7}).raw_data() == first);
}

TEST_CASE("a tensor's TensorImpl and Storage blocks are recycled, across threads too") {
  // RecyclingAllocator keeps freed blocks per thread, so the next tensor takes the block the
  // last one gave back (in a sanitizer build nothing is kept: the check is skipped there).
  Tensor kept = zeros({5});
  const TensorImpl* first = kept.impl().get();
  kept = Tensor();
  const Tensor again = zeros({5});
  if (recycling_detail::kCachedBlocks > 0) CHECK(again.impl().get() == first);
  // Blocks are interchangeable between threads: a tensor made on another thread and freed on
  // this one joins this thread's list, and one made here and freed there joins that thread's.
  Tensor from_other;
  std::thread([&] { from_other = full({3}, 2.0f); }).join();
  check_values(from_other, {2, 2, 2});
  from_other = Tensor();
  Tensor to_other = full({4}, 1.0f);
  std::thread([moved = std::move(to_other)]() mutable { moved = Tensor(); }).join();
  check_values(zeros({2}) + 1.0f, {1, 1});
}

TEST_CASE("a Shape reads like a vector of sizes, and holds at most 12") {
  Shape s{2, 3};
  s.push_back(4);
  s.insert(s.begin(), 1);
  CHECK(s == Shape{1, 2, 3, 4});
  CHECK(s.size() == 4);
  CHECK(s.back() == 4);
  s.erase(s.begin() + 1);
  CHECK(s == Shape{1, 3, 4});
  s.insert(s.begin() + 1, 2, 7);
  CHECK(s == Shape{1, 7, 7, 3, 4});
  s.erase(s.begin() + 1, s.begin() + 3);
  s.resize(5, 9);
  CHECK(s == Shape{1, 3, 4, 9, 9});
  CHECK(s != Shape{1, 3, 4, 9});  // a prefix is not equal
  CHECK(Shape(std::vector<int64_t>{5, 6}).to_vector() == std::vector<int64_t>{5, 6});
  CHECK(to_string(Shape{}) == "[]");
  CHECK(to_string(Shape(3, 1)) == "[1,1,1]");
  Shape twelve(12, 1);
  CHECK_THROWS_WITH_AS(
      twelve.push_back(1),
      doctest::Contains("shape: a tensor has at most 12 dimensions, this shape would have 13"),
      Error);
  CHECK_THROWS_WITH_AS(twelve.insert(twelve.begin(), 1), doctest::Contains("would have 13"), Error);
  CHECK_THROWS_WITH_AS(zeros(Shape(std::vector<int64_t>(13, 1))),
                       doctest::Contains("at most 12 dimensions"), Error);
  CHECK_THROWS_WITH_AS(zeros(Shape(12, 1)).unsqueeze(0), doctest::Contains("at most 12 dimensions"),
                       Error);
  CHECK(zeros(Shape(12, 1)).sum().item() == 0.0f);  // twelve is allowed
}

TEST_CASE("device names: to_string and device_named are inverses, other names give nothing") {
  for (Device device : {Device::CPU, Device::CUDA})
    CHECK(device_named(to_string(device)) == device);
  CHECK_FALSE(device_named("tpu").has_value());
  CHECK_FALSE(device_named("CPU").has_value());
  CHECK_FALSE(device_named("").has_value());
}

TEST_CASE("size computations that would overflow are refused with the shape") {
  // [2^62 + 1, 4] has 2^64 + 4 elements: unchecked, numel wrapped to 4 and select read past a
  // 16-byte buffer. Every count, stride and byte size is bounded by the product of the nonzero
  // dimensions, which may not pass 2^60.
  const int64_t huge = (int64_t{1} << 62) + 1;
  CHECK_THROWS_WITH_AS(zeros({huge, 4}),
                       doctest::Contains("empty: shape [4611686018427387905,4] has more than "
                                         "2^60 elements"),
                       Error);
  const int64_t big = int64_t{1} << 40;
  CHECK_THROWS_WITH_AS(zeros({big, big}), doctest::Contains("has more than 2^60 elements"), Error);
  CHECK_THROWS_WITH_AS(ones({0, big, big}), doctest::Contains("has more than 2^60 elements"),
                       Error);  // no elements, but its strides would still overflow
  CHECK(zeros({0, big}).numel() == 0);
  CHECK(numel_of({int64_t{1} << 30, int64_t{1} << 30}) == kMaxElements);  // the largest allowed
  CHECK_THROWS_WITH_AS(zeros({0}).reshape({big, int64_t{1} << 21, 0}),
                       doctest::Contains("reshape: shape [1099511627776,2097152,0] has more "
                                         "than 2^60 elements"),
                       Error);
  CHECK_THROWS_WITH_AS(zeros({0}).reshape({big, big, 0}),
                       doctest::Contains("reshape: cannot view [0] as "
                                         "[1099511627776,1099511627776,0]: the sizes' product "
                                         "overflows"),
                       Error);
  CHECK_THROWS_WITH_AS(zeros({0}).reshape({-1, huge, huge}),
                       doctest::Contains("reshape: cannot view [0] as"), Error);
}

TEST_CASE("check formats its parts only when the condition fails") {
  int calls = 0;
  const auto costly = [&calls] {
    ++calls;
    return std::string("a costly part");
  };
  check(true, "op: expected ", 3, ", got ", costly);
  CHECK(calls == 0);
  CHECK_THROWS_WITH_AS(check(false, "op: expected ", 3, ", got ", Shape{2, 5}, " and ", costly),
                       "op: expected 3, got [2,5] and a costly part", Error);
  CHECK(calls == 1);
}
