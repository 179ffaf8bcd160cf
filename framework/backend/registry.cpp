// The device registry: which Backend serves each device. Each backend is created on first use
// and never destroyed (tensors held in static objects may be freed after main returns).
#include "framework/backend/backend.h"
#include "framework/backend/cpu/cpu_backend.h"

namespace tg {

Backend& cuda_backend();  // backend/cuda when built with CUDA, else the stub in no_cuda.cpp

Backend& backend_for(Device device) {
  static auto* cpu = new CpuBackend();
  if (device == Device::CPU) return *cpu;
  return cuda_backend();
}

// Storage (in the core, which includes no backend) finds each device's memory through this.
static DeviceAllocator& allocator_of(Device device) { return backend_for(device); }
[[maybe_unused]] static const bool allocators_registered = [] {
  set_allocator_source(allocator_of);
  return true;
}();

}  // namespace tg
