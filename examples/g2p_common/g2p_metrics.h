// How G2P predictions are scored: word error rate and phoneme error rate.
//
// A word may have several correct pronunciations (CMUdict lists "either" as IY DH ER and
// AY DH ER), so every score compares the prediction with the CLOSEST reference:
//
//   WER = words whose prediction equals none of their references / words
//   PER = sum over words of min_r edits(prediction, r)  /  sum over words of |r*|
//
// where r* is the reference reaching that minimum (on ties, the shorter one) and edits is the
// Levenshtein distance (insertions, deletions and substitutions of whole phonemes, each costing
// 1). PER is pooled over phonemes, not averaged per word, so long words weigh more, as in
// Yao & Zweig (2015) and the usual ASR convention. PER can exceed 1 when predictions are much
// longer than their references.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace g2p {

using Phonemes = std::vector<std::string>;

// Levenshtein distance with unit costs, O(|a| |b|) time and O(|b|) memory.
int64_t edit_distance(const Phonemes& a, const Phonemes& b);

struct ScoreTotals {
  int64_t words = 0;
  int64_t wrong_words = 0;         // no reference matched exactly
  int64_t phoneme_edits = 0;       // sum of edits to the closest reference
  int64_t reference_phonemes = 0;  // sum of that reference's lengths

  double wer() const { return words == 0 ? 0.0 : static_cast<double>(wrong_words) / words; }
  double per() const {
    return reference_phonemes == 0 ? 0.0 : static_cast<double>(phoneme_edits) / reference_phonemes;
  }
  // Adds one word's prediction against its references (at least one).
  void add(const Phonemes& prediction, const std::vector<Phonemes>& references);
};

}  // namespace g2p
