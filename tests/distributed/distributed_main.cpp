// The runner of the distributed suite: joins the MPI job (when the build has MPI) before doctest
// runs, so that every rank runs every test case and the collective calls meet. Started by
// `mpirun -np 2` (CTest entry distributed/two_ranks) or alone, as a job of one rank.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "optim/distributed/distributed.h"

int main(int argc, char** argv) {
  if (tg::distributed::available()) tg::distributed::init();
  doctest::Context context(argc, argv);
  // Only rank 0 reports, unless a rank fails: then that rank's report says what failed.
  if (!tg::distributed::is_main()) context.setOption("minimal", true);
  const int failures = context.run();
  // Every rank must know whether any failed, or mpirun would report the job by rank 0 alone.
  const double failed_ranks = tg::distributed::sum(failures != 0 ? 1.0 : 0.0);
  if (tg::distributed::is_main() && failed_ranks > 0)
    std::printf("%g of %d ranks failed\n", failed_ranks, tg::distributed::world_size());
  return failed_ranks > 0 ? 1 : 0;
}
