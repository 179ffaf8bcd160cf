// One thread count for our OpenMP loops and OpenBLAS. OpenBLAS is the OpenMP build (see
// README, "Dependencies"), so both draw on the same OpenMP pool.
#include <omp.h>

#include <cblas.h>

#include "framework/backend/threads.h"
#include "framework/error.h"

namespace tg {

void set_num_threads(int threads) {
  check(threads >= 1, "set_num_threads: need at least 1 thread, got ", threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace tg
