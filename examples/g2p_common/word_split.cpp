#include "examples/g2p_common/word_split.h"

#include "framework/error.h"
#include "framework/random.h"

namespace tg::data {

namespace {

void check_fractions(const char* op, double dev_fraction, double test_fraction) {
  check(dev_fraction >= 0 && dev_fraction <= 1 && test_fraction >= 0 && test_fraction <= 1 &&
            dev_fraction + test_fraction <= 1,
        op, ": dev_fraction ", dev_fraction, " and test_fraction ", test_fraction,
        " must lie in [0, 1] and add up to at most 1");
}

}  // namespace

const char* to_string(WordSplit split) {
  switch (split) {
    case WordSplit::Train:
      return "train";
    case WordSplit::Dev:
      return "dev";
    case WordSplit::Test:
      return "test";
  }
  return "?";
}

uint64_t fnv1a_64(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ull;  // the FNV offset basis
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;  // the FNV prime
  }
  return hash;
}

WordSplit split_of_word(const std::string& word, double dev_fraction, double test_fraction,
                        uint64_t seed) {
  check_fractions("split_of_word", dev_fraction, test_fraction);
  // FNV alone mixes the last bytes poorly ("cat-2" and "cat-3" differ in a few low bits), so
  // its hash goes through Philox, keyed by the seed, before it becomes a number in [0, 1).
  const PhiloxWords bits = philox4x32(seed, fnv1a_64(word));
  const uint64_t top53 = (uint64_t{bits.w[0]} << 21) | (bits.w[1] >> 11);
  const double u = static_cast<double>(top53) * 0x1.0p-53;
  if (u < test_fraction) return WordSplit::Test;
  if (u < test_fraction + dev_fraction) return WordSplit::Dev;
  return WordSplit::Train;
}

SplitResult split_by_word(const std::vector<PronouncingEntry>& entries, double dev_fraction,
                          double test_fraction, uint64_t seed) {
  check_fractions("split_by_word", dev_fraction, test_fraction);
  SplitResult result;
  for (const PronouncingEntry& entry : entries) {
    switch (split_of_word(entry.word, dev_fraction, test_fraction, seed)) {
      case WordSplit::Train:
        result.train.push_back(entry);
        break;
      case WordSplit::Dev:
        result.dev.push_back(entry);
        break;
      case WordSplit::Test:
        result.test.push_back(entry);
        break;
    }
  }
  return result;
}

}  // namespace tg::data
