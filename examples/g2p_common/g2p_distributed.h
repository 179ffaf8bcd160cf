// The G2P programs with --distributed: one process of an MPI job (mpirun -np R).
//
// The global batches of an epoch are the length-bucketed batches of R x --batch words that one
// process would train on; each rank takes its share of each one's rows, and the gradients are
// averaged weighted by each rank's target tokens (the loss is a mean over tokens), so a step is
// the step of one process on the whole global batch. Dev and test words are scored in shares
// and the counts summed. Only rank 0 prints and writes files; the time limit is rank 0's clock.
// Without --distributed every function here describes a job of one process.
#pragma once

#include <string>
#include <vector>

#include "examples/datasets/cmudict.h"
#include "examples/g2p_common/g2p_metrics.h"
#include "examples/g2p_common/seq_batches.h"
#include "optim/distributed/distributed.h"

namespace g2p {

// Joins the MPI job; rank 0 says how many ranks there are.
void start_distributed(const std::string& program);

// This rank's share of each global batch (a share may be empty: size() == 0, no tensors).
std::vector<tg::data::Seq2SeqBatch> shares_of_batches(
    const std::vector<tg::data::EncodedPair>& pairs,
    const std::vector<tg::data::Seq2SeqBatch>& global_batches);

// This rank's share of a list of words to score.
std::vector<tg::data::PronouncingEntry> share_of_entries(
    const std::vector<tg::data::PronouncingEntry>& entries);
ScoreTotals sum_over_ranks(const ScoreTotals& mine);

// Rank 0's decision, for every rank (a loop that one rank leaves alone would hang the others).
bool decided_by_rank_zero(bool decision);

}  // namespace g2p
