#include "examples/g2p_common/g2p_distributed.h"

#include <cstdio>

#include "examples/datasets/loader.h"

namespace g2p {

namespace dist = tg::distributed;
using tg::data::Seq2SeqBatch;

void start_distributed(const std::string& program) {
  dist::init();
  if (dist::is_main())
    std::printf("%s: rank 0 of %d processes (global batch = %d x --batch)\n", program.c_str(),
                dist::world_size(), dist::world_size());
}

std::vector<Seq2SeqBatch> shares_of_batches(const std::vector<tg::data::EncodedPair>& pairs,
                                            const std::vector<Seq2SeqBatch>& global_batches) {
  if (dist::world_size() == 1) return global_batches;
  std::vector<Seq2SeqBatch> mine;
  mine.reserve(global_batches.size());
  for (const Seq2SeqBatch& batch : global_batches) {
    const tg::data::Share share =
        tg::data::share_of_batch(batch.size(), dist::rank(), dist::world_size());
    const auto first = batch.entry_indices.begin() + share.begin;
    mine.push_back(share.size == 0 ? Seq2SeqBatch{}
                                   : tg::data::make_seq2seq_batch(
                                         pairs, std::vector<int64_t>(first, first + share.size)));
  }
  return mine;
}

std::vector<tg::data::PronouncingEntry> share_of_entries(
    const std::vector<tg::data::PronouncingEntry>& entries) {
  const tg::data::Share share = tg::data::share_of_batch(static_cast<int64_t>(entries.size()),
                                                         dist::rank(), dist::world_size());
  return {entries.begin() + share.begin, entries.begin() + share.begin + share.size};
}

ScoreTotals sum_over_ranks(const ScoreTotals& mine) {
  if (dist::world_size() == 1) return mine;
  // Counts below 2^53 add exactly as doubles.
  const std::vector<double> total = dist::sum(
      {static_cast<double>(mine.words), static_cast<double>(mine.wrong_words),
       static_cast<double>(mine.phoneme_edits), static_cast<double>(mine.reference_phonemes)});
  return {static_cast<int64_t>(total[0]), static_cast<int64_t>(total[1]),
          static_cast<int64_t>(total[2]), static_cast<int64_t>(total[3])};
}

bool decided_by_rank_zero(bool decision) { return dist::broadcast_value(decision ? 1 : 0) != 0; }

}  // namespace g2p
