// The distributed functions in a build without MPI: one process, rank 0 of 1, and init() says
// how to get MPI.
#include <cstdio>
#include <cstdlib>

#include "framework/error.h"
#include "optim/distributed/communicator.h"
#include "optim/distributed/distributed.h"

namespace tg::distributed {

bool available() { return false; }
bool initialized() { return false; }
void init() {
  fail(
      "distributed: this build has no MPI (on Debian: apt-get install libopenmpi-dev "
      "openmpi-bin, then configure again with -DTAPEGRAD_MPI=ON)");
}
int rank() { return 0; }
int world_size() { return 1; }
void barrier() {}

void abort_job(const std::string& message, int code) {
  std::fprintf(stderr, "rank 0: %s\n", message.c_str());
  std::exit(code);
}

namespace detail {
void broadcast_bytes(void*, size_t, int) {}
void allreduce_sum(float*, size_t) {}
void allreduce_sum(double*, size_t) {}
}  // namespace detail

}  // namespace tg::distributed
