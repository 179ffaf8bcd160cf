// A train/dev/test split of a pronouncing dictionary that is a pure function of each word.
//
// Each word's split comes from a hash of the word and the seed alone: u = Philox(seed,
// FNV-1a(word)) mapped to [0, 1), then test if u < test_fraction, dev if u < test_fraction +
// dev_fraction, train otherwise. So a word never changes split when other words are added or
// removed (a grown dictionary keeps its test set honest), all pronunciations of a word travel
// together (they are one entry), and no word can be in two splits: a model is never tested on a
// word it trained on under another pronunciation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "examples/datasets/cmudict.h"

namespace tg::data {

enum class WordSplit { Train, Dev, Test };
const char* to_string(WordSplit split);

// FNV-1a, 64 bits: a fixed, portable hash of the word's bytes (std::hash is neither).
uint64_t fnv1a_64(const std::string& text);

WordSplit split_of_word(const std::string& word, double dev_fraction, double test_fraction,
                        uint64_t seed);

struct SplitResult {
  std::vector<PronouncingEntry> train, dev, test;  // each in the order of the input
};

// Fractions in [0, 1] with dev_fraction + test_fraction <= 1, else tg::Error.
SplitResult split_by_word(const std::vector<PronouncingEntry>& entries, double dev_fraction,
                          double test_fraction, uint64_t seed);

}  // namespace tg::data
