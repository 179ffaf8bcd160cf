#include "examples/g2p_common/decoding.h"

#include <algorithm>
#include <limits>

#include "examples/datasets/vocabulary.h"
#include "framework/tapegrad.h"

namespace g2p {

namespace {

using tg::data::kBosId;
using tg::data::kEosId;
constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

std::vector<int64_t> limits_of(const tg::Tensor& source_lengths) {
  std::vector<int64_t> limits;
  for (int32_t length : source_lengths.to_vector<int32_t>()) {
    limits.push_back(max_output_length(length));
  }
  return limits;
}

}  // namespace

std::vector<std::vector<int32_t>> greedy_decode(Seq2SeqModel& model, const tg::Tensor& source,
                                                const tg::Tensor& source_lengths) {
  tg::NoGradGuard no_grad;
  const int64_t batch = source.size(0);
  const std::vector<int64_t> limits = limits_of(source_lengths);
  std::unique_ptr<DecodeState> state = model.start_decoding(source, source_lengths);
  std::vector<std::vector<int32_t>> outputs(batch);
  std::vector<bool> finished(batch, false);
  std::vector<int32_t> previous(batch, kBosId);
  const int64_t longest = *std::max_element(limits.begin(), limits.end());
  for (int64_t step = 0; step <= longest; ++step) {
    const tg::Tensor log_probs =
        model.decode_step(*state, tg::from_vector(previous, {batch}).to(source.device()));
    const std::vector<float> values = log_probs.to_vector<float>();
    const int64_t vocabulary = log_probs.size(1);
    bool all_finished = true;
    for (int64_t b = 0; b < batch; ++b) {
      if (finished[b]) continue;
      const float* row = values.data() + b * vocabulary;
      const int32_t best = static_cast<int32_t>(std::max_element(row, row + vocabulary) - row);
      if (best == kEosId || static_cast<int64_t>(outputs[b].size()) == limits[b]) {
        finished[b] = true;
        previous[b] = kEosId;
        continue;
      }
      outputs[b].push_back(best);
      previous[b] = best;
      all_finished = false;
    }
    if (all_finished) break;
  }
  return outputs;
}

// Rows of the state are source b's hypotheses k at row b * beam + k. Every step, each live
// hypothesis proposes every next symbol (score + log p), a finished one proposes only itself
// (score unchanged), and the beam best proposals per source survive. A stable sort on the
// score keeps proposals in (hypothesis, symbol) order among ties, which for beam 1 is the
// first maximum: greedy's choice.
std::vector<std::vector<int32_t>> beam_search(Seq2SeqModel& model, const tg::Tensor& source,
                                              const tg::Tensor& source_lengths, int64_t beam) {
  tg::check(beam >= 1, "beam_search: beam width must be at least 1, got ", beam);
  tg::NoGradGuard no_grad;
  const int64_t batch = source.size(0), rows = batch * beam;
  const std::vector<int64_t> limits = limits_of(source_lengths);
  std::unique_ptr<DecodeState> state = model.start_decoding(source, source_lengths);
  std::vector<int32_t> expand(rows);
  for (int64_t r = 0; r < rows; ++r) expand[r] = static_cast<int32_t>(r / beam);
  state->reorder(tg::from_vector(expand, {rows}).to(source.device()));

  struct Hypothesis {
    std::vector<int32_t> symbols;
    float score = kNegativeInfinity;
    bool finished = false;
  };
  std::vector<Hypothesis> hypotheses(rows);
  for (int64_t b = 0; b < batch; ++b) hypotheses[b * beam].score = 0.0f;  // one start per word
  std::vector<int32_t> previous(rows, kBosId);

  struct Proposal {
    float score;
    int64_t row;
    int32_t symbol;  // -1: a finished hypothesis carried over
  };
  const int64_t longest = *std::max_element(limits.begin(), limits.end());
  for (int64_t step = 0; step <= longest; ++step) {
    bool any_live = false;
    for (const Hypothesis& h : hypotheses) any_live |= (!h.finished && h.score > kNegativeInfinity);
    if (!any_live) break;
    const tg::Tensor log_probs =
        model.decode_step(*state, tg::from_vector(previous, {rows}).to(source.device()));
    const std::vector<float> values = log_probs.to_vector<float>();
    const int64_t vocabulary = log_probs.size(1);

    std::vector<Hypothesis> next(rows);
    std::vector<int32_t> parents(rows);
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<Proposal> proposals;
      for (int64_t k = 0; k < beam; ++k) {
        const int64_t row = b * beam + k;
        const Hypothesis& h = hypotheses[row];
        if (h.score == kNegativeInfinity) continue;
        if (h.finished) {
          proposals.push_back({h.score, row, -1});
        } else if (static_cast<int64_t>(h.symbols.size()) == limits[b]) {
          proposals.push_back({h.score, row, kEosId});  // forced end, as greedy does
        } else {
          for (int64_t v = 0; v < vocabulary; ++v) {
            proposals.push_back(
                {h.score + values[row * vocabulary + v], row, static_cast<int32_t>(v)});
          }
        }
      }
      std::stable_sort(proposals.begin(), proposals.end(),
                       [](const Proposal& x, const Proposal& y) { return x.score > y.score; });
      for (int64_t k = 0; k < beam; ++k) {
        const int64_t row = b * beam + k;
        if (k >= static_cast<int64_t>(proposals.size())) {
          parents[row] = static_cast<int32_t>(b * beam);  // an empty slot
          continue;
        }
        const Proposal& p = proposals[k];
        Hypothesis h = hypotheses[p.row];
        h.score = p.score;
        if (p.symbol == -1 || p.symbol == kEosId) {
          h.finished = true;
          previous[row] = kEosId;
        } else {
          h.symbols.push_back(p.symbol);
          previous[row] = p.symbol;
        }
        next[row] = std::move(h);
        parents[row] = static_cast<int32_t>(p.row);
      }
    }
    hypotheses = std::move(next);
    state->reorder(tg::from_vector(parents, {rows}).to(source.device()));
  }

  // Sorted best first within each source, so slot 0 is the answer.
  std::vector<std::vector<int32_t>> outputs(batch);
  for (int64_t b = 0; b < batch; ++b) outputs[b] = hypotheses[b * beam].symbols;
  return outputs;
}

std::vector<std::vector<int32_t>> decode(Seq2SeqModel& model, const tg::Tensor& source,
                                         const tg::Tensor& source_lengths, int64_t beam) {
  return beam == 1 ? greedy_decode(model, source, source_lengths)
                   : beam_search(model, source, source_lengths, beam);
}

}  // namespace g2p
