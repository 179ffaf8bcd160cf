// The caching allocator (framework/storage.h) over a counting stand-in for malloc: size
// classes, block splitting, merging of freed neighbours, the cap, the statistics, and falling
// back when the system refuses a segment.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "framework/tapegrad.h"

namespace tg {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// The stand-in system: counts live segments and refuses anything over `limit` bytes.
struct System {
  static inline int live = 0;
  static inline size_t limit = SIZE_MAX;
  static void* allocate(size_t bytes) {
    if (bytes > limit) fail("test malloc(", bytes, " bytes): over the limit");
    ++live;
    return std::malloc(bytes);
  }
  static void release(void* pointer) {
    --live;
    std::free(pointer);
  }
};

TEST_CASE("caching allocator: sizes are rounded to their class") {
  CachingAllocator allocator(System::allocate, System::release);
  void* tiny = allocator.allocate(100);
  CHECK(allocator.stats().in_use_bytes == 512);  // multiples of 512 up to 1 MiB
  void* large = allocator.allocate(1'500'000);
  // Between 1 MiB and 2 MiB the classes step by 128 KiB: 12 * 131072 = 1572864.
  CHECK(allocator.stats().in_use_bytes == 512 + 1'572'864);
  allocator.deallocate(tiny, 100);
  allocator.deallocate(large, 1'500'000);
  CHECK(allocator.stats().in_use_bytes == 0);
}

TEST_CASE("caching allocator: small requests split one segment, freed blocks merge") {
  System::live = 0;
  CachingAllocator allocator(System::allocate, System::release);
  void* a = allocator.allocate(600 * 1024);
  void* b = allocator.allocate(600 * 1024);
  CachingAllocator::Stats stats = allocator.stats();
  CHECK(stats.raw_allocations == 1);  // both in one 2 MiB segment
  CHECK(stats.reserved_bytes == 2 * kMiB);
  CHECK(static_cast<char*>(b) - static_cast<char*>(a) == 600 * 1024);
  allocator.deallocate(a, 600 * 1024);
  allocator.deallocate(b, 600 * 1024);
  // Neither 600 KiB block nor the 800 KiB rest holds 1 MiB; merged again, the segment does.
  void* c = allocator.allocate(kMiB);
  stats = allocator.stats();
  CHECK(stats.raw_allocations == 1);
  CHECK(stats.cache_hits == 2);
  CHECK(c == a);
  allocator.deallocate(c, kMiB);
  CHECK(System::live == 1);
  allocator.release_cache();
  CHECK(System::live == 0);
  CHECK(allocator.stats().reserved_bytes == 0);
  CHECK(allocator.stats().raw_frees == 1);
}

TEST_CASE("caching allocator: peaks and the cached bytes") {
  CachingAllocator allocator(System::allocate, System::release);
  void* a = allocator.allocate(3 * kMiB);  // a 20 MiB segment
  void* b = allocator.allocate(kMiB + 1);  // 1 MiB + 128 KiB from the same segment
  CachingAllocator::Stats stats = allocator.stats();
  CHECK(stats.in_use_bytes == 3 * kMiB + kMiB + kMiB / 8);
  CHECK(stats.reserved_bytes == 20 * kMiB);
  CHECK(stats.cached_bytes == stats.reserved_bytes - stats.in_use_bytes);
  allocator.deallocate(a, 3 * kMiB);
  stats = allocator.stats();
  CHECK(stats.peak_in_use_bytes == 3 * kMiB + kMiB + kMiB / 8);
  CHECK(stats.in_use_bytes == kMiB + kMiB / 8);
  allocator.reset_peaks();
  CHECK(allocator.stats().peak_in_use_bytes == kMiB + kMiB / 8);
  allocator.deallocate(b, kMiB + 1);
}

TEST_CASE("caching allocator: over the cache limit, free segments go back") {
  System::live = 0;
  CachingAllocator allocator(System::allocate, System::release);
  void* big = allocator.allocate(30 * kMiB);
  void* small = allocator.allocate(1000);
  allocator.set_cache_limit(4 * kMiB);
  allocator.deallocate(big, 30 * kMiB);  // 30 MiB free > 4 MiB: given back at once
  CHECK(System::live == 1);
  CHECK(allocator.stats().reserved_bytes == 2 * kMiB);
  allocator.deallocate(small, 1000);  // 2 MiB free: kept
  CHECK(System::live == 1);
  allocator.set_cache_limit(0);
  CHECK(System::live == 0);
}

TEST_CASE("caching allocator: a refused segment is retried at the request's own size") {
  System::live = 0;
  System::limit = kMiB;
  CachingAllocator allocator(System::allocate, System::release);
  void* a = allocator.allocate(600'000);  // the 2 MiB segment is refused, 600 064 bytes are not
  CHECK(allocator.stats().reserved_bytes == 600'064);
  allocator.deallocate(a, 600'000);
  void* b = allocator.allocate(700'000);  // the cached 600 KB is released to make room
  CHECK(allocator.stats().raw_frees == 1);
  CHECK(System::live == 1);
  CHECK_THROWS_WITH_AS(allocator.allocate(2 * kMiB),
                       doctest::Contains("test malloc(2097152 bytes): over the limit"), Error);
  allocator.deallocate(b, 700'000);
  System::limit = SIZE_MAX;
}

// Requests of many sizes, as variable-length batches make them (the tensors of a step scale
// with the batch's length): once a few steps have run, the system is not asked again, and the
// memory held stays close to what one step needs, however many shapes come. (Exact-size free
// lists held a buffer per size ever seen: here 9 lengths x 4 sizes, over 5 times the peak.)
TEST_CASE("caching allocator: variable batch shapes stop reaching the system") {
  CachingAllocator allocator(System::allocate, System::release);
  const auto step = [&](int length) {
    std::vector<std::pair<void*, size_t>> live;
    for (size_t bytes : {64 * 4 * 128, 64 * 4 * 512, 64 * 4 * 43, 64 * 4 * 4 * 128})
      for (int layer = 0; layer < 6; ++layer)
        live.emplace_back(allocator.allocate(bytes * length), bytes * length);
    for (auto [pointer, bytes] : live) allocator.deallocate(pointer, bytes);
  };
  for (int length : {12, 4, 8}) step(length);  // the first steps
  const CachingAllocator::Stats warm = allocator.stats();
  std::mt19937 random(7);
  std::uniform_int_distribution<int> length(4, 12);
  for (int i = 0; i < 200; ++i) step(length(random));
  const CachingAllocator::Stats stats = allocator.stats();
  CHECK(stats.raw_allocations == warm.raw_allocations);
  CHECK(stats.in_use_bytes == 0);
  INFO("reserved ", stats.reserved_bytes, " bytes, peak in use ", stats.peak_in_use_bytes);
  CHECK(stats.reserved_bytes <= 2 * stats.peak_in_use_bytes);  // exact sizes: over 5x
}

}  // namespace
}  // namespace tg
