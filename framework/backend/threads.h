// The number of CPU threads: one pool for tapegrad's own OpenMP loops and for OpenBLAS, so the
// two never oversubscribe the cores. Defined in backend/cpu/cpu_threads.cpp.
#pragma once

namespace tg {

void set_num_threads(int threads);  // threads >= 1
int num_threads();

}  // namespace tg
