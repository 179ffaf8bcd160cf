#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "examples/g2p_common/seq_batches.h"
#include "framework/random.h"
#include "framework/tapegrad.h"

using namespace tg;
using namespace tg::data;

namespace {

using Ids = std::vector<int32_t>;

// n pairs with source lengths 1..max_len and target lengths that differ from them, every id
// above the specials so padding (0) can never be mistaken for data.
std::vector<EncodedPair> random_pairs(int n, int max_len, uint64_t seed) {
  std::vector<EncodedPair> pairs;
  for (int i = 0; i < n; ++i) {
    const PhiloxWords bits = philox4x32(seed, static_cast<uint64_t>(i));
    const auto source_length = 1 + static_cast<int>(bits.w[0] % static_cast<uint32_t>(max_len));
    const auto target_length = 1 + static_cast<int>(bits.w[1] % static_cast<uint32_t>(max_len + 2));
    EncodedPair pair;
    for (int k = 0; k < source_length; ++k) pair.source.push_back(4 + (i + k) % 26);
    for (int k = 0; k < target_length; ++k) pair.target.push_back(4 + (i * 3 + k) % 39);
    pairs.push_back(std::move(pair));
  }
  return pairs;
}

// Row b of an int32 [B, W] tensor.
Ids row(const Tensor& t, int64_t b) {
  const Ids all = t.to_vector<int32_t>();
  const int64_t width = t.size(1);
  return Ids(all.begin() + b * width, all.begin() + (b + 1) * width);
}

// Checks every row of a batch against the pair it claims to be.
void check_batch(const Seq2SeqBatch& batch, const std::vector<EncodedPair>& pairs) {
  const Ids source_lengths = batch.source_lengths.to_vector<int32_t>();
  const Ids target_lengths = batch.target_lengths.to_vector<int32_t>();
  const int64_t s = batch.source.size(1), t = batch.target_in.size(1);
  CHECK(batch.target_out.shape() == batch.target_in.shape());
  int64_t longest_source = 0, longest_target = 0;
  for (int64_t b = 0; b < batch.size(); ++b) {
    const EncodedPair& pair =
        pairs[static_cast<size_t>(batch.entry_indices[static_cast<size_t>(b)])];
    const auto n = static_cast<int64_t>(pair.source.size());
    const auto m = static_cast<int64_t>(pair.target.size());
    longest_source = std::max(longest_source, n);
    longest_target = std::max(longest_target, m + 1);
    CHECK(source_lengths[static_cast<size_t>(b)] == n);
    CHECK(target_lengths[static_cast<size_t>(b)] == m + 1);
    Ids source = pair.source, in{kBosId}, out = pair.target;
    in.insert(in.end(), pair.target.begin(), pair.target.end());
    out.push_back(kEosId);
    source.resize(static_cast<size_t>(s), kPadId);
    in.resize(static_cast<size_t>(t), kPadId);
    out.resize(static_cast<size_t>(t), kPadId);
    CHECK(row(batch.source, b) == source);
    CHECK(row(batch.target_in, b) == in);
    CHECK(row(batch.target_out, b) == out);
  }
  CHECK(s == longest_source);  // no column of padding only
  CHECK(t == longest_target);
}

}  // namespace

TEST_CASE("seq_batches: a batch by hand: bos + target in, target + eos out, padded with 0") {
  const std::vector<EncodedPair> pairs{{{7, 4, 9}, {10, 11, 12}}, {{5, 6, 7, 8, 9}, {13}}};
  const Seq2SeqBatch batch = make_seq2seq_batch(pairs, {1, 0});
  CHECK(batch.source.dtype() == DType::Int32);
  CHECK(batch.source.shape() == Shape{2, 5});
  CHECK(batch.source.to_vector<int32_t>() == Ids{5, 6, 7, 8, 9, 7, 4, 9, 0, 0});
  CHECK(batch.source_lengths.to_vector<int32_t>() == Ids{5, 3});
  CHECK(batch.target_in.shape() == Shape{2, 4});
  CHECK(batch.target_in.to_vector<int32_t>() == Ids{1, 13, 0, 0, 1, 10, 11, 12});
  CHECK(batch.target_out.to_vector<int32_t>() == Ids{13, 2, 0, 0, 10, 11, 12, 2});
  CHECK(batch.target_lengths.to_vector<int32_t>() == Ids{2, 4});
  CHECK(batch.entry_indices == std::vector<int64_t>{1, 0});
}

TEST_CASE("seq_batches: every pair exactly once per epoch, rows match their pairs") {
  const auto pairs = random_pairs(1234, 12, 5);
  for (const bool shuffle : {true, false}) {
    const auto batches = bucketed_batches(pairs, 32, shuffle, 11, 2);
    CHECK(batches.size() == 39);  // ceil(1234 / 32)
    std::vector<int64_t> seen;
    int64_t small = 0;
    for (const Seq2SeqBatch& batch : batches) {
      check_batch(batch, pairs);
      if (batch.size() < 32) ++small;
      seen.insert(seen.end(), batch.entry_indices.begin(), batch.entry_indices.end());
    }
    CHECK(small == 1);
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(pairs.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    CHECK(seen == all);
  }
}

TEST_CASE("seq_batches: within a chunk, batches hold words of similar length") {
  // 640 pairs = one chunk of 100 batches of 8: sorted by length, so the length ranges of two
  // batches never overlap, and a batch pads far less than a random one would.
  const auto pairs = random_pairs(640, 20, 9);
  const auto batches = bucketed_batches(pairs, 8, true, 1, 0);
  std::vector<std::pair<int32_t, int32_t>> ranges;
  for (const Seq2SeqBatch& batch : batches) {
    const Ids lengths = batch.source_lengths.to_vector<int32_t>();
    ranges.emplace_back(*std::min_element(lengths.begin(), lengths.end()),
                        *std::max_element(lengths.begin(), lengths.end()));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 1; k < ranges.size(); ++k) CHECK(ranges[k - 1].second <= ranges[k].first);
  // The batches come shuffled, not shortest first.
  std::vector<int32_t> shortest_in_order;
  for (const Seq2SeqBatch& batch : batches) {
    const Ids lengths = batch.source_lengths.to_vector<int32_t>();
    shortest_in_order.push_back(*std::min_element(lengths.begin(), lengths.end()));
  }
  CHECK_FALSE(std::is_sorted(shortest_in_order.begin(), shortest_in_order.end()));

  // Without shuffle: one chunk comes out sorted, shortest first.
  const auto ordered = bucketed_batches(pairs, 8, false, 1, 0);
  int32_t previous = 0;
  for (const Seq2SeqBatch& batch : ordered) {
    for (const int32_t length : batch.source_lengths.to_vector<int32_t>()) {
      CHECK(length >= previous);
      previous = length;
    }
  }
}

TEST_CASE("seq_batches: the batches are a function of (seed, epoch)") {
  const auto pairs = random_pairs(500, 10, 2);
  const auto indices = [&](uint64_t seed, int64_t epoch) {
    std::vector<std::vector<int64_t>> out;
    for (const auto& batch : bucketed_batches(pairs, 16, true, seed, epoch))
      out.push_back(batch.entry_indices);
    return out;
  };
  CHECK(indices(3, 4) == indices(3, 4));
  CHECK(indices(3, 4) != indices(3, 5));
  CHECK(indices(3, 4) != indices(4, 4));
  // Without shuffle neither seed nor epoch matters.
  const auto unshuffled = [&](uint64_t seed, int64_t epoch) {
    std::vector<std::vector<int64_t>> out;
    for (const auto& batch : bucketed_batches(pairs, 16, false, seed, epoch))
      out.push_back(batch.entry_indices);
    return out;
  };
  CHECK(unshuffled(1, 0) == unshuffled(2, 7));
}

TEST_CASE("seq_batches: vocabularies and training pairs from entries use the first pronunciation") {
  const std::vector<PronouncingEntry> entries{{"read", {{"R", "IY", "D"}, {"R", "EH", "D"}}},
                                              {"cat", {{"K", "AE", "T"}}}};
  const Vocabulary letters = letter_vocabulary(entries);
  const Vocabulary phonemes = phoneme_vocabulary(entries);
  CHECK(letters.symbols() ==
        std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", "a", "c", "d", "e", "r", "t"});
  // EH comes from the second pronunciation of "read": the vocabulary holds every phoneme.
  CHECK(phonemes.symbols() == std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", "AE",
                                                       "D", "EH", "IY", "K", "R", "T"});
  const auto pairs = encode_for_training(entries, letters, phonemes);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].source == Ids{letters.id("r"), letters.id("e"), letters.id("a"), letters.id("d")});
  CHECK(phonemes.decode(pairs[0].target) == std::vector<std::string>{"R", "IY", "D"});
  CHECK(encode_for_training({{"cab", {{"K", "AE", "B"}}}}, letters, phonemes)[0].source.back() ==
        kUnkId);
  CHECK_THROWS_WITH_AS(encode_for_training({{"x", {}}}, letters, phonemes),
                       doctest::Contains("encode_for_training: 'x' has no pronunciation"), Error);
}

TEST_CASE("seq_batches: errors") {
  const std::vector<EncodedPair> pairs{{{}, {5}}, {{4}, {5}}};
  CHECK_THROWS_WITH_AS(bucketed_batches(pairs, 0, true, 0, 0),
                       doctest::Contains("bucketed_batches: batch_size must be positive, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(bucketed_batches(pairs, 2, true, 0, -1),
                       doctest::Contains("epoch must be non-negative"), Error);
  CHECK_THROWS_WITH_AS(bucketed_batches(pairs, 2, false, 0, 0),
                       doctest::Contains("make_seq2seq_batch: pair 0 has an empty source"), Error);
  CHECK_THROWS_WITH_AS(make_seq2seq_batch(pairs, {2}),
                       doctest::Contains("make_seq2seq_batch: index 2 is outside [0, 2)"), Error);
  CHECK_THROWS_WITH_AS(make_seq2seq_batch(pairs, {}),
                       doctest::Contains("make_seq2seq_batch: no indices"), Error);
  CHECK(bucketed_batches({}, 4, true, 0, 0).empty());
}
