#include "examples/g2p_common/seq_batches.h"

#include <algorithm>
#include <numeric>

#include "framework/error.h"
#include "framework/random.h"

namespace tg::data {

namespace {

// Fisher-Yates driven by Philox: key = seed, counters start at epoch * 2^32 (as DataLoader).
template <class T>
void shuffle_in_place(std::vector<T>& items, uint64_t seed, int64_t epoch) {
  const uint64_t base = static_cast<uint64_t>(epoch) << 32;
  for (size_t i = items.size(); i-- > 1;) {
    const uint32_t bits = philox4x32(seed, base + i).w[0];
    const auto j = static_cast<size_t>((uint64_t{bits} * (i + 1)) >> 32);  // uniform in [0, i]
    std::swap(items[i], items[j]);
  }
}

// Copies rows into a [rows.size(), width] int32 tensor, padding each with kPadId.
Tensor padded(const std::vector<std::vector<int32_t>>& rows, int64_t width) {
  std::vector<int32_t> values(rows.size() * static_cast<size_t>(width), kPadId);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::copy(rows[r].begin(), rows[r].end(),
              values.begin() + static_cast<std::ptrdiff_t>(r * width));
  }
  return from_vector(values, {static_cast<int64_t>(rows.size()), width});
}

}  // namespace

Vocabulary letter_vocabulary(const std::vector<PronouncingEntry>& entries) {
  std::vector<std::string> letters;
  for (const PronouncingEntry& entry : entries) {
    for (std::string& c : split_characters(entry.word)) letters.push_back(std::move(c));
  }
  return Vocabulary(std::move(letters));
}

Vocabulary phoneme_vocabulary(const std::vector<PronouncingEntry>& entries) {
  std::vector<std::string> phonemes;
  for (const PronouncingEntry& entry : entries) {
    for (const auto& pronunciation : entry.pronunciations) {
      phonemes.insert(phonemes.end(), pronunciation.begin(), pronunciation.end());
    }
  }
  return Vocabulary(std::move(phonemes));
}

std::vector<EncodedPair> encode_for_training(const std::vector<PronouncingEntry>& entries,
                                             const Vocabulary& letters,
                                             const Vocabulary& phonemes) {
  std::vector<EncodedPair> pairs;
  pairs.reserve(entries.size());
  for (const PronouncingEntry& entry : entries) {
    check(!entry.pronunciations.empty(), "encode_for_training: '", entry.word,
          "' has no pronunciation");
    pairs.push_back({letters.encode(split_characters(entry.word)),
                     phonemes.encode(entry.pronunciations.front())});
  }
  return pairs;
}

Seq2SeqBatch Seq2SeqBatch::to(Device device) const {
  return {source.to(device),     source_lengths.to(device), target_in.to(device),
          target_out.to(device), target_lengths.to(device), entry_indices};
}

Seq2SeqBatch make_seq2seq_batch(const std::vector<EncodedPair>& pairs,
                                const std::vector<int64_t>& indices) {
  check(!indices.empty(), "make_seq2seq_batch: no indices");
  std::vector<std::vector<int32_t>> sources, targets_in, targets_out;
  std::vector<int32_t> source_lengths, target_lengths;
  int64_t source_width = 0, target_width = 0;
  for (const int64_t index : indices) {
    check(index >= 0 && index < static_cast<int64_t>(pairs.size()), "make_seq2seq_batch: index ",
          index, " is outside [0, ", pairs.size(), ")");
    const EncodedPair& pair = pairs[static_cast<size_t>(index)];
    check(!pair.source.empty(), "make_seq2seq_batch: pair ", index, " has an empty source");
    sources.push_back(pair.source);
    std::vector<int32_t> in{kBosId}, out = pair.target;
    in.insert(in.end(), pair.target.begin(), pair.target.end());
    out.push_back(kEosId);
    source_lengths.push_back(static_cast<int32_t>(pair.source.size()));
    target_lengths.push_back(static_cast<int32_t>(in.size()));
    source_width = std::max<int64_t>(source_width, static_cast<int64_t>(pair.source.size()));
    target_width = std::max<int64_t>(target_width, static_cast<int64_t>(in.size()));
    targets_in.push_back(std::move(in));
    targets_out.push_back(std::move(out));
  }
  const auto rows = static_cast<int64_t>(indices.size());
  return {padded(sources, source_width),       from_vector(source_lengths, {rows}),
          padded(targets_in, target_width),    padded(targets_out, target_width),
          from_vector(target_lengths, {rows}), indices};
}

std::vector<Seq2SeqBatch> bucketed_batches(const std::vector<EncodedPair>& pairs,
                                           int64_t batch_size, bool shuffle, uint64_t seed,
                                           int64_t epoch) {
  check(batch_size > 0, "bucketed_batches: batch_size must be positive, got ", batch_size);
  check(epoch >= 0, "bucketed_batches: epoch must be non-negative, got ", epoch);
  std::vector<int64_t> order(pairs.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  if (shuffle) shuffle_in_place(order, seed, epoch);

  const auto length_of = [&](int64_t i) { return pairs[static_cast<size_t>(i)].source.size(); };
  const auto chunk = static_cast<size_t>(batch_size * kBucketChunkBatches);
  std::vector<std::vector<int64_t>> batch_indices;
  for (size_t start = 0; start < order.size(); start += chunk) {
    const auto first = order.begin() + static_cast<std::ptrdiff_t>(start);
    const auto last =
        order.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, order.size()));
    // Stable: pairs of equal length keep their shuffled order, so each epoch mixes them anew.
    std::stable_sort(first, last,
                     [&](int64_t a, int64_t b) { return length_of(a) < length_of(b); });
    for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(batch_size, last - it)) {
      batch_indices.emplace_back(it, it + std::min<std::ptrdiff_t>(batch_size, last - it));
    }
  }
  // A key of their own, so the batch order is not a function of the pair order.
  if (shuffle) shuffle_in_place(batch_indices, seed ^ 0x9E3779B97F4A7C15ull, epoch);

  std::vector<Seq2SeqBatch> batches;
  batches.reserve(batch_indices.size());
  for (const auto& indices : batch_indices) batches.push_back(make_seq2seq_batch(pairs, indices));
  return batches;
}

}  // namespace tg::data
