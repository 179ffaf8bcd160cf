// The distributed functions on Open MPI (MPI_COMM_WORLD). Built when CMake finds MPI.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "framework/error.h"
#include "optim/distributed/communicator.h"
#include "optim/distributed/distributed.h"

namespace tg::distributed {

bool available() { return true; }

bool initialized() {
  int started = 0, finished = 0;
  MPI_Initialized(&started);
  MPI_Finalized(&finished);
  return started && !finished;
}

static void finalize_at_exit() {
  if (initialized()) MPI_Finalize();
}

void init() {
  if (initialized()) return;
  // FUNNELED: only the main thread calls MPI; OpenMP threads compute between the calls.
  int provided = 0;
  const int status = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  check(status == MPI_SUCCESS, "distributed::init: MPI_Init_thread failed with code ", status);
  std::atexit(finalize_at_exit);
}

int rank() {
  if (!initialized()) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int world_size() {
  if (!initialized()) return 1;
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

void barrier() {
  if (initialized()) MPI_Barrier(MPI_COMM_WORLD);
}

void abort_job(const std::string& message, int code) {
  std::fprintf(stderr, "rank %d: %s\n", rank(), message.c_str());
  std::fflush(stderr);
  if (initialized() && world_size() > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

namespace detail {

// MPI counts are int: long buffers go in pieces of at most INT_MAX elements.
template <class Call>
static void in_pieces(size_t count, Call call) {
  for (size_t done = 0; done < count;) {
    const size_t piece = std::min<size_t>(count - done, INT_MAX);
    call(done, static_cast<int>(piece));
    done += piece;
  }
}

void broadcast_bytes(void* data, size_t bytes, int root) {
  if (!initialized()) return;
  auto* base = static_cast<char*>(data);
  in_pieces(bytes,
            [&](size_t at, int n) { MPI_Bcast(base + at, n, MPI_BYTE, root, MPI_COMM_WORLD); });
}

void allreduce_sum(float* data, size_t count) {
  if (!initialized()) return;
  in_pieces(count, [&](size_t at, int n) {
    MPI_Allreduce(MPI_IN_PLACE, data + at, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  });
}

void allreduce_sum(double* data, size_t count) {
  if (!initialized()) return;
  in_pieces(count, [&](size_t at, int n) {
    MPI_Allreduce(MPI_IN_PLACE, data + at, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  });
}

}  // namespace detail
}  // namespace tg::distributed
