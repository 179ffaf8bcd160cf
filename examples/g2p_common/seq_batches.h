// Sequence-to-sequence batches for grapheme-to-phoneme training: letters in, phonemes out.
//
// A batch is a rectangle of ids padded with kPadId (0), plus the lengths that say where each row
// really ends, so attention and the loss can ignore the padding:
//
//   word "cat", pronunciation K AE T, in a batch whose longest word has 5 letters:
//     source     c   a   t   pad pad     source_lengths 3
//     target_in  bos K   AE  T   pad     target_lengths 4 (phonemes + 1)
//     target_out K   AE  T   eos pad
//
// target_in is what the decoder reads (teacher forcing), target_out what it must predict at the
// same position: the same sequence shifted by one. Padding wastes compute, so batches hold words
// of similar length (bucketing): the shuffled pairs are cut into chunks of
// kBucketChunkBatches * batch_size, each chunk is sorted by source length and cut into batches,
// and the batches are shuffled. Batches stay random from epoch to epoch, yet pad little.
#pragma once

#include <cstdint>
#include <vector>

#include "examples/datasets/cmudict.h"
#include "examples/datasets/vocabulary.h"
#include "framework/tensor.h"

namespace tg::data {

inline constexpr int64_t kBucketChunkBatches = 100;

// One training example as ids, without <bos>/<eos> (the batcher adds them).
struct EncodedPair {
  std::vector<int32_t> source;  // letter ids
  std::vector<int32_t> target;  // phoneme ids
};

// Every character of every word (split_characters) / every phoneme of every pronunciation.
Vocabulary letter_vocabulary(const std::vector<PronouncingEntry>& entries);
Vocabulary phoneme_vocabulary(const std::vector<PronouncingEntry>& entries);

// Pair i encodes entries[i] with its FIRST pronunciation as the target. A word like "read"
// (R IY D, R EH D) cannot be pronounced from its letters alone; training on one pronunciation
// per word keeps the targets consistent, and CMUdict lists the most common one first.
// Evaluation should accept any of entries[i].pronunciations. Unknown symbols become kUnkId.
std::vector<EncodedPair> encode_for_training(const std::vector<PronouncingEntry>& entries,
                                             const Vocabulary& letters, const Vocabulary& phonemes);

struct Seq2SeqBatch {
  Tensor source;                       // int32 [B, S], S = longest source in the batch
  Tensor source_lengths;               // int32 [B]
  Tensor target_in;                    // int32 [B, T], <bos> + target, T = longest target + 1
  Tensor target_out;                   // int32 [B, T], target + <eos>
  Tensor target_lengths;               // int32 [B], target length + 1
  std::vector<int64_t> entry_indices;  // which pair each row is (index into the pairs given)
  int64_t size() const { return static_cast<int64_t>(entry_indices.size()); }
  Seq2SeqBatch to(Device device) const;  // the tensors copied to device (itself if already there)
};

// The batch of pairs[indices[0]], pairs[indices[1]], ... in that order. Every source must be
// non-empty.
Seq2SeqBatch make_seq2seq_batch(const std::vector<EncodedPair>& pairs,
                                const std::vector<int64_t>& indices);

// Every pair exactly once, in length-bucketed batches of batch_size (the last may be smaller).
// With shuffle, the pairs and then the batches are shuffled by Philox; the result is a pure
// function of (pairs, batch_size, seed, epoch), so a resumed run sees the same batches. Without
// shuffle, the pairs keep their order up to the sort within each chunk, and the batches theirs
// (for evaluation: entry_indices say which pair each row is).
std::vector<Seq2SeqBatch> bucketed_batches(const std::vector<EncodedPair>& pairs,
                                           int64_t batch_size, bool shuffle, uint64_t seed,
                                           int64_t epoch);

}  // namespace tg::data
