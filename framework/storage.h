// Storage: a reference-counted buffer on one device.
//
// The core knows no device: a Storage takes its memory from the DeviceAllocator registered for
// its device, and backend/registry.cpp registers each backend (a Backend is a DeviceAllocator)
// before main runs. Buffers come from the device's caching allocator: a freed buffer goes back to a
// free list keyed by its size and is handed out again to the next request of that size. A training
// step allocates the same sizes every time, so once it is warm no step calls malloc for tensor
// data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace tg {

enum class Device { CPU, CUDA };
const char* to_string(Device device);
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

// A caching allocator over some raw allocate/free pair (malloc, cudaMalloc).
class CachingAllocator {
 public:
  using RawAllocate = void* (*)(size_t bytes);
  using RawFree = void (*)(void* pointer);
  CachingAllocator(RawAllocate raw_allocate, RawFree raw_free);
  ~CachingAllocator();

  void* allocate(size_t bytes);
  void deallocate(void* pointer, size_t bytes);
  void release_cache();  // frees every cached buffer

  struct Stats {
    uint64_t raw_allocations = 0;  // calls that reached malloc/cudaMalloc
    uint64_t cache_hits = 0;
    size_t cached_bytes = 0;
  };
  Stats stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  RawAllocate raw_allocate_;
  RawFree raw_free_;
};

}  // namespace tg
