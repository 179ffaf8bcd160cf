// Storage: a reference-counted buffer on one device.
//
// The core knows no device: a Storage takes its memory from the DeviceAllocator registered for
// its device, and backend/registry.cpp registers each backend (a Backend is a DeviceAllocator)
// before main runs. Buffers come from the device's caching allocator (CachingAllocator below): a
// freed buffer stays with the allocator and serves later requests, so once a training step is
// warm it calls neither malloc nor cudaMalloc for tensor data, even when batch shapes vary from
// step to step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

namespace tg {

enum class Device { CPU, CUDA };
const char* to_string(Device device);
// Prints to_string(device): a check takes the device itself and formats it only on failure.
std::ostream& operator<<(std::ostream& out, Device device);
// The device a name stands for ("cpu", "cuda": to_string's inverse); nullopt for any other name.
std::optional<Device> device_named(const std::string& name);

// Where a device's memory comes from; every Backend is one.
class DeviceAllocator {
 public:
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* pointer, size_t bytes) = 0;

 protected:
  ~DeviceAllocator() = default;
};
// The allocator of each device, looked up when a Storage is made (set once, at startup).
using AllocatorSource = DeviceAllocator& (*)(Device device);
void set_allocator_source(AllocatorSource source);

class Storage {
 public:
  Storage(size_t bytes, Device device);  // bytes from device's allocator
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  DeviceAllocator& allocator_;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

// A caching allocator over some raw allocate/free pair (malloc, cudaMalloc), after the design of
// PyTorch's CUDA allocator:
// - size classes: a request is rounded up to a multiple of 512 bytes below 1 MiB, and to one of
//   8 sizes per power of two above (at most 12.5% more), so that near-equal requests (the
//   tensors of variable-length batches) fit each other's blocks;
// - segments and block splitting: the system is asked for segments (2 MiB for requests up to
//   1 MiB, 20 MiB up to 10 MiB, the request itself above) and a segment is split into blocks;
//   a freed block merges with free neighbours of its segment, so memory freed by one batch
//   shape serves the next one instead of sitting in a free list no request matches;
// - best fit: a request takes the smallest free block that holds it; small (<= 1 MiB) and large
//   requests draw from separate segments, so small tensors do not pin large segments;
// - a cap: when more than cache_limit bytes sit free, wholly free segments go back to the
//   system; when the system refuses a segment, every free segment is released and the request
//   retried, then retried at its own size.
class CachingAllocator {
 public:
  using RawAllocate = void* (*)(size_t bytes);  // throws tg::Error when out of memory
  using RawFree = void (*)(void* pointer);
  CachingAllocator(RawAllocate raw_allocate, RawFree raw_free);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(size_t bytes);
  void deallocate(void* pointer, size_t bytes);
  void release_cache();  // gives every wholly free segment back to the system
  // Free bytes kept for reuse at most (default 1 GiB); lowering it releases at once.
  void set_cache_limit(size_t bytes);

  struct Stats {
    uint64_t raw_allocations = 0;  // segments obtained from malloc/cudaMalloc
    uint64_t raw_frees = 0;        // segments given back
    uint64_t cache_hits = 0;       // requests served from a cached block, without the system
    size_t in_use_bytes = 0;       // held by live buffers (rounded sizes)
    size_t peak_in_use_bytes = 0;
    size_t reserved_bytes = 0;  // in segments obtained and not given back
    size_t peak_reserved_bytes = 0;
    size_t cached_bytes = 0;  // reserved - in use: free blocks ready for reuse
  };
  Stats stats() const;
  void reset_peaks();  // peaks restart from the current figures

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The CPU allocator's figures, and its cache released (cuda_status.h has the CUDA ones).
CachingAllocator::Stats cpu_allocator_stats();
void cpu_release_cache();
void cpu_reset_peaks();

}  // namespace tg
