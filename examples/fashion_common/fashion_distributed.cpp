#include "examples/fashion_common/fashion_distributed.h"

#include <cstdio>

namespace fashion {

namespace dist = tg::distributed;

void start_distributed(const std::string& program) {
  dist::init();
  if (dist::is_main())
    std::printf("%s: rank 0 of %d processes (global batch = %d x --batch-size)\n", program.c_str(),
                dist::world_size(), dist::world_size());
}

tg::data::Share share_of_set(int64_t n) {
  return tg::data::share_of_batch(n, dist::rank(), dist::world_size());
}

// The predictions travel as doubles in one sum: each rank fills its share, zeros elsewhere
// (10,000 test images are 80 kB, once per evaluation).
std::vector<int32_t> join_shares(const std::vector<int32_t>& mine, tg::data::Share share,
                                 int64_t n) {
  if (dist::world_size() == 1) return mine;
  std::vector<double> all(static_cast<size_t>(n), 0.0);
  for (size_t i = 0; i < mine.size(); ++i) all[static_cast<size_t>(share.begin) + i] = mine[i];
  all = dist::sum(all);
  return std::vector<int32_t>(all.begin(), all.end());
}

double sum_over_ranks(double value) { return dist::sum(value); }

void average_gradients(dist::GradientAverager& averager, int64_t batch) { averager.average(batch); }

void sum_epoch_figures(double& loss_sum, double& correct, double& seen) {
  const std::vector<double> totals = dist::sum({loss_sum, correct, seen});
  loss_sum = totals[0];
  correct = totals[1];
  seen = totals[2];
}

}  // namespace fashion
