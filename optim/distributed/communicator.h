// What the distributed training needs from MPI, in four calls: the one file that includes mpi.h
// (mpi_communicator.cpp) implements them, and single_process.cpp does for a build without MPI.
// Not for users: they call distributed.h.
#pragma once

#include <cstddef>

namespace tg::distributed::detail {

void broadcast_bytes(void* data, size_t bytes, int root);
void allreduce_sum(float* data, size_t count);
void allreduce_sum(double* data, size_t count);

}  // namespace tg::distributed::detail
