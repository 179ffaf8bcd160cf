// The CUDA runtime's errors, device queries and memory, emulated on the CPU (see emulator.h).
//
// Device memory is host memory laid out as [guard | buffer | guard]: the guards hold a known
// byte and are checked after every kernel, so a kernel that writes past either end of its
// buffer is reported by name. A fresh buffer is filled with 0xFF bytes (NaN as float32, -1 as
// int32), as cudaMalloc's memory holds garbage: a kernel that reads what nobody wrote shows up
// as NaN in the results instead of a lucky zero.
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <string>
#include <utility>

#include "emulator_state.h"

namespace cuda_emulator {
namespace {

constexpr size_t kGuardBytes = 64;
constexpr unsigned char kGuardByte = 0xA5;
constexpr unsigned char kFreshByte = 0xFF;

struct Errors {
  cudaError_t pending = cudaSuccess;  // what cudaGetLastError returns next
  std::string pending_message;
  cudaError_t described = cudaSuccess;  // the last error handed out, and its message
  std::string description;
};
Errors& errors() {
  static Errors e;
  return e;
}

// Buffers by the address of their first byte (after the front guard) -> their size.
std::map<uintptr_t, size_t>& buffers() {
  static std::map<uintptr_t, size_t> table;
  return table;
}

unsigned char* front_guard(uintptr_t buffer) {
  return reinterpret_cast<unsigned char*>(buffer) - kGuardBytes;
}
unsigned char* back_guard(uintptr_t buffer, size_t bytes) {
  return reinterpret_cast<unsigned char*>(buffer) + bytes;
}

// Checks one guard, restores it, and says whether it was intact.
bool guard_intact(unsigned char* guard) {
  bool intact = true;
  for (size_t i = 0; i < kGuardBytes; ++i) {
    intact = intact && guard[i] == kGuardByte;
    guard[i] = kGuardByte;
  }
  return intact;
}

cudaError_t fail(cudaError_t code, std::string message) {
  record_error(code, std::move(message));
  return code;
}

const char* kind_name(cudaMemcpyKind kind) {
  switch (kind) {
    case cudaMemcpyHostToHost:
      return "host to host";
    case cudaMemcpyHostToDevice:
      return "host to device";
    case cudaMemcpyDeviceToHost:
      return "device to host";
    case cudaMemcpyDeviceToDevice:
      return "device to device";
  }
  return "of an unknown kind";
}

// Whether a copy of this kind writes to and reads from device memory.
bool writes_device(cudaMemcpyKind kind) {
  return kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
}
bool reads_device(cudaMemcpyKind kind) {
  return kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
}

}  // namespace

void record_error(cudaError_t code, std::string message) {
  Errors& e = errors();
  if (e.pending != cudaSuccess) return;
  e.pending = code;
  e.pending_message = "emulator: " + std::move(message);
}

bool is_device_range(const void* pointer, size_t bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(pointer);
  const auto& table = buffers();
  auto after = table.upper_bound(begin);
  if (after == table.begin()) return false;
  const auto& [start, size] = *std::prev(after);
  return begin - start <= size && bytes <= size - (begin - start);
}

void check_guards(const char* after) {
  for (const auto& [start, size] : buffers()) {
    const bool front = guard_intact(front_guard(start));
    const bool back = guard_intact(back_guard(start, size));
    if (!front || !back)
      record_error(cudaErrorIllegalAddress, std::string(after) + " wrote past the " +
                                                (front ? "end" : "start") + " of a " +
                                                std::to_string(size) + "-byte device buffer");
  }
}

namespace {
size_t memory_limit = SIZE_MAX;
size_t memory_in_use = 0;
}  // namespace

void set_memory_limit(size_t bytes) { memory_limit = bytes; }

}  // namespace cuda_emulator

using namespace cuda_emulator;

// ---- errors ----

cudaError_t cudaGetLastError() {
  Errors& e = errors();
  const cudaError_t code = e.pending;
  if (code != cudaSuccess) {
    e.described = code;
    e.description = std::move(e.pending_message);
    e.pending = cudaSuccess;
  }
  return code;
}

const char* cudaGetErrorString(cudaError_t error) {
  const Errors& e = errors();
  if (error == e.described && !e.description.empty()) return e.description.c_str();
  if (error == e.pending && !e.pending_message.empty()) return e.pending_message.c_str();
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorCudartUnloading:
      return "driver shutting down";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidPitchValue:
      return "invalid pitch argument";
    case cudaErrorIllegalAddress:
      return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
  }
  return "unknown error";
}

// ---- devices ----

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device) {
  if (device != 0)
    return fail(cudaErrorInvalidValue,
                "cudaGetDeviceProperties: no device " + std::to_string(device));
  std::snprintf(properties->name, sizeof properties->name,
                "CUDA emulator on the CPU (tests/cuda_emulator)");
  return cudaSuccess;
}

// Kernels finish before their launch returns; what a GPU would report here was recorded then.
cudaError_t cudaDeviceSynchronize() { return errors().pending; }

// ---- memory ----

cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  *pointer = nullptr;
  if (bytes > memory_limit - memory_in_use)
    return fail(cudaErrorMemoryAllocation, "out of memory: cudaMalloc(" + std::to_string(bytes) +
                                               " bytes) with " + std::to_string(memory_in_use) +
                                               " of " + std::to_string(memory_limit) +
                                               " bytes in use");
  auto* block = new unsigned char[bytes + 2 * kGuardBytes];
  const auto start = reinterpret_cast<uintptr_t>(block + kGuardBytes);
  std::memset(front_guard(start), kGuardByte, kGuardBytes);
  std::memset(block + kGuardBytes, kFreshByte, bytes);
  std::memset(back_guard(start, bytes), kGuardByte, kGuardBytes);
  buffers()[start] = bytes;
  memory_in_use += bytes;
  *pointer = block + kGuardBytes;
  return cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  auto& table = buffers();
  const auto found = table.find(reinterpret_cast<uintptr_t>(pointer));
  if (found == table.end())
    return fail(cudaErrorInvalidDevicePointer, "cudaFree of a pointer cudaMalloc did not return");
  const auto [start, size] = *found;
  if (!guard_intact(front_guard(start)) || !guard_intact(back_guard(start, size)))
    record_error(cudaErrorIllegalAddress, "cudaFree: the guard bytes around a " +
                                              std::to_string(size) +
                                              "-byte device buffer were overwritten");
  table.erase(found);
  memory_in_use -= size;
  delete[] front_guard(start);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  const bool dst_on_device = writes_device(kind), src_on_device = reads_device(kind);
  const auto where = [&](bool device) { return device ? "device" : "host"; };
  if (is_device_range(dst, bytes) != dst_on_device)
    return fail(cudaErrorInvalidValue, std::string("cudaMemcpy ") + kind_name(kind) + " of " +
                                           std::to_string(bytes) +
                                           " bytes: the destination is not " +
                                           where(dst_on_device) + " memory of that size");
  if (is_device_range(src, bytes) != src_on_device)
    return fail(cudaErrorInvalidValue, std::string("cudaMemcpy ") + kind_name(kind) + " of " +
                                           std::to_string(bytes) + " bytes: the source is not " +
                                           where(src_on_device) + " memory of that size");
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

// Every stream runs in order on the CPU, so an asynchronous copy is a synchronous one.
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind, cudaStream_t) {
  if (width == 0 || height == 0) return cudaSuccess;
  if (width > dpitch || width > spitch)
    return fail(cudaErrorInvalidPitchValue, "cudaMemcpy2DAsync: rows of " + std::to_string(width) +
                                                " bytes with pitches " + std::to_string(dpitch) +
                                                " (destination) and " + std::to_string(spitch) +
                                                " (source)");
  // Both whole regions first, so a bad call copies nothing.
  const size_t dst_extent = (height - 1) * dpitch + width,
               src_extent = (height - 1) * spitch + width;
  const bool dst_on_device = writes_device(kind), src_on_device = reads_device(kind);
  if (is_device_range(dst, dst_extent) != dst_on_device ||
      is_device_range(src, src_extent) != src_on_device)
    return fail(cudaErrorInvalidValue, std::string("cudaMemcpy2DAsync ") + kind_name(kind) +
                                           ": a region is not in the memory its kind says");
  for (size_t row = 0; row < height; ++row)
    std::memmove(static_cast<char*>(dst) + row * dpitch,
                 static_cast<const char*>(src) + row * spitch, width);
  return cudaSuccess;
}
