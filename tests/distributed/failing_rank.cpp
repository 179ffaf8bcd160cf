// A job of two ranks in which rank 1 throws at step 3 while rank 0 waits in the gradient
// average. The program does what the examples do: catch, then abort_job(). The job must end at
// once, non-zero, with rank 1's message (tests/distributed/expect_job_failure.sh checks).
#include <cstdio>

#include "framework/tapegrad.h"
#include "layers/linear.h"
#include "optim/distributed/distributed.h"

int main() {
  namespace dist = tg::distributed;
  try {
    dist::init();
    tg::Generator gen(0);
    tg::Linear model(4, 2, true, gen);
    dist::broadcast_parameters(model);
    dist::GradientAverager averager(model);
    for (int step = 1; step <= 10; ++step) {
      model.zero_grad();
      tg::mean(model.forward(tg::randn({3, 4}, gen))).backward();
      tg::check(!(dist::rank() == 1 && step == 3), "rank 1 failed on purpose at step ", step);
      averager.average(3);
    }
    std::printf("rank %d: finished, which it should not have\n", dist::rank());
    return 0;
  } catch (const tg::Error& error) {
    dist::abort_job(std::string("distributed_failing_rank: ") + error.what());
  }
}
