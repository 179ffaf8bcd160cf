// Built when tapegrad is compiled without the CUDA backend: asking for the GPU says so, and
// the status queries of cuda_status.h answer "no".
#include "framework/backend/backend.h"
#include "framework/backend/cuda_status.h"

namespace tg {

Backend& cuda_backend() {
  fail(
      "device cuda: this build of tapegrad has no CUDA backend (it was configured without "
      "the CUDA Toolkit); rebuild with nvcc available, or use the cpu device");
}

bool cuda_built() { return false; }
bool cuda_available() { return false; }
std::string cuda_device_name() { return ""; }
CachingAllocator::Stats cuda_allocator_stats() { return {}; }
void cuda_release_cache() {}
void cuda_synchronize() {}

}  // namespace tg
