// Asking about the GPU without risking an exception: whether this build has the CUDA backend,
// whether a GPU is there, and what the CUDA caching allocator has done.
//
// These exist in every build; without the CUDA backend they answer "no" (false, "", zeros), so
// programs and tests can choose a device, or skip, without #ifdefs.
#pragma once

#include <string>

#include "framework/storage.h"

namespace tg {

bool cuda_built();               // this build of tapegrad has the CUDA backend
bool cuda_available();           // built with CUDA and at least one GPU is usable; never throws
std::string cuda_device_name();  // e.g. "NVIDIA H100 80GB HBM3"; "" when no GPU is usable

// The CUDA caching allocator: how many requests reached cudaMalloc, how many were served from
// the cache, and how many bytes it holds.
CachingAllocator::Stats cuda_allocator_stats();
void cuda_release_cache();  // hands every cached GPU buffer back with cudaFree
void cuda_synchronize();    // waits for every queued kernel (for timing)

}  // namespace tg
