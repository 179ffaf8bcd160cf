// What the emulator's parts share: the runtime's error state and the table of device memory.
#pragma once

#include <cstddef>
#include <string>

#include "include/cuda_runtime.h"

namespace cuda_emulator {

// Keeps the first error since the last cudaGetLastError, as the runtime does.
void record_error(cudaError_t code, std::string message);

// Whether [pointer, pointer + bytes) lies inside one live cudaMalloc buffer.
bool is_device_range(const void* pointer, size_t bytes);

// Records an error naming `after` if a guard byte around any device buffer changed, then
// restores the guards (so one overrun is reported once).
void check_guards(const char* after);

}  // namespace cuda_emulator
