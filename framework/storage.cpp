#include "framework/storage.h"

#include <map>
#include <mutex>
#include <vector>

#include "framework/error.h"

namespace tg {

const char* to_string(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

std::optional<Device> device_named(const std::string& name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda") return Device::CUDA;
  return std::nullopt;
}

static AllocatorSource allocator_source = nullptr;

void set_allocator_source(AllocatorSource source) { allocator_source = source; }

static DeviceAllocator& allocator_for(Device device) {
  check(allocator_source != nullptr, "storage: no device allocator is registered (",
        "framework/backend/registry.cpp registers them; is it linked?)");
  return allocator_source(device);
}

Storage::Storage(size_t bytes, Device device)
    : allocator_(allocator_for(device)),
      data_(allocator_.allocate(bytes)),
      bytes_(bytes),
      device_(device) {}

Storage::~Storage() { allocator_.deallocate(data_, bytes_); }

// Sizes are rounded up to 64 bytes (a cache line, and the alignment gemm likes) so that
// tensors of nearly equal size share a free list.
static size_t rounded(size_t bytes) { return bytes == 0 ? 64 : (bytes + 63) / 64 * 64; }

// Past this many cached bytes, freed buffers go straight back to the system.
static constexpr size_t kMaxCachedBytes = size_t{2} << 30;

struct CachingAllocator::State {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_lists;  // rounded size -> free buffers
  Stats stats;
};

CachingAllocator::CachingAllocator(RawAllocate raw_allocate, RawFree raw_free)
    : state_(std::make_unique<State>()), raw_allocate_(raw_allocate), raw_free_(raw_free) {}

CachingAllocator::~CachingAllocator() { release_cache(); }

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = rounded(bytes);
  {
    std::lock_guard lock(state_->mutex);
    auto& list = state_->free_lists[size];
    if (!list.empty()) {
      void* pointer = list.back();
      list.pop_back();
      state_->stats.cache_hits++;
      state_->stats.cached_bytes -= size;
      return pointer;
    }
    state_->stats.raw_allocations++;
  }
  return raw_allocate_(size);
}

void CachingAllocator::deallocate(void* pointer, size_t bytes) {
  const size_t size = rounded(bytes);
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stats.cached_bytes + size <= kMaxCachedBytes) {
      state_->free_lists[size].push_back(pointer);
      state_->stats.cached_bytes += size;
      return;
    }
  }
  raw_free_(pointer);
}

void CachingAllocator::release_cache() {
  std::lock_guard lock(state_->mutex);
  for (auto& [size, list] : state_->free_lists)
    for (void* pointer : list) raw_free_(pointer);
  state_->free_lists.clear();
  state_->stats.cached_bytes = 0;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats;
}

}  // namespace tg
