// Built when tapegrad is compiled without the CUDA backend: asking for the GPU says so.
#include "framework/backend/backend.h"

namespace tg {

Backend& cuda_backend() {
  fail("device cuda: this build of tapegrad has no CUDA backend (it was configured without "
       "the CUDA Toolkit); rebuild with nvcc available, or use the cpu device");
}

}  // namespace tg
