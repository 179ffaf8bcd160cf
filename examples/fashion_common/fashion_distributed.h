// The Fashion programs with --distributed: one process of an MPI job (mpirun -np R).
//
// Each rank trains on its share of every global batch of R x --batch-size images (the
// DataLoader's rank and world_size) and the gradients are averaged after backward, so the run is
// the run of one process with the global batch. Every rank evaluates its share of the
// validation and test sets; the sums make the figures of the whole sets. Only rank 0 prints,
// draws and writes checkpoints; with --resume every rank reads the same checkpoint, whatever the
// number of ranks that wrote it. A rank's error ends the whole job with its message.
// Without --distributed every function here describes a job of one process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "examples/datasets/loader.h"
#include "optim/distributed/distributed.h"

namespace fashion {

// Joins the MPI job; rank 0 says how many ranks there are.
void start_distributed(const std::string& program);

// This rank's share of a set of n images (all of it in a job of one process).
tg::data::Share share_of_set(int64_t n);
// Every rank's predictions for its share, joined into the predictions for the whole set.
std::vector<int32_t> join_shares(const std::vector<int32_t>& mine, tg::data::Share share,
                                 int64_t n);
double sum_over_ranks(double value);

// The mean gradient over the global batch, given this rank's batch size.
void average_gradients(tg::distributed::GradientAverager& averager, int64_t batch);
// An epoch's training figures summed over the ranks, in place.
void sum_epoch_figures(double& loss_sum, double& correct, double& seen);

}  // namespace fashion
