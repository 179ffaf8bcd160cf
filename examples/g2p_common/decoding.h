// Turning a trained model's step-by-step probabilities into phoneme sequences.
//
// Greedy decoding takes the most probable symbol at every step. Beam search keeps the `beam`
// best partial pronunciations (by total log-probability) at every step and returns the best
// finished one: it can recover when the best first phoneme leads nowhere. With beam 1 it keeps
// exactly the greedy choice at every step (ties go to the lower id in both), so the results are
// identical; the tests check it.
//
// Both decode a whole batch at once and stop a word at <eos> or after max_output_length(letters)
// phonemes (2 per letter + 5: no English word needs more, and an untrained model stops).
// The model must be in eval mode; nothing is recorded on the tape.
#pragma once

#include <cstdint>
#include <vector>

#include "examples/g2p_common/seq2seq.h"

namespace g2p {

inline int64_t max_output_length(int64_t source_length) { return 2 * source_length + 5; }

// source Int32 [B, S], source_lengths Int32 [B]. Returns each row's phoneme ids, without <eos>.
std::vector<std::vector<int32_t>> greedy_decode(Seq2SeqModel& model, const tg::Tensor& source,
                                                const tg::Tensor& source_lengths);

std::vector<std::vector<int32_t>> beam_search(Seq2SeqModel& model, const tg::Tensor& source,
                                              const tg::Tensor& source_lengths, int64_t beam);

// beam_search for beam > 1, greedy_decode for beam 1.
std::vector<std::vector<int32_t>> decode(Seq2SeqModel& model, const tg::Tensor& source,
                                         const tg::Tensor& source_lengths, int64_t beam);

}  // namespace g2p
