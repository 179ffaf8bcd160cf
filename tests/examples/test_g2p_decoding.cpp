// The G2P models decode what they were trained on: step-by-step decoding (greedy and beam search)
// computes, on the same prefix, the same next-phoneme log-probabilities as the teacher-forced
// forward of training; and the masks hide exactly what they must (future targets, padded
// letters, padded targets, padded loss positions). A model that passes its training loss and
// fails here trains on one function and decodes with another: its dev scores lie.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "examples/g2p_common/decoding.h"
#include "examples/g2p_common/seq_batches.h"
#include "examples/g2p_common/training.h"
#include "examples/g2p_lstm/g2p_lstm.h"
#include "examples/g2p_transformer/g2p_transformer.h"
#include "layers/loss.h"

namespace {

using tg::Tensor;
using tg::data::PronouncingEntry;
using tg::data::Seq2SeqBatch;

constexpr float kTolerance = 1e-5f;  // on log-probabilities
const char* const kKinds[] = {"lstm", "transformer"};

g2p::Phonemes phonemes(const std::string& text) {
  g2p::Phonemes result;
  std::string p;
  for (char c : text + " ") {
    if (c != ' ') {
      p += c;
    } else if (!p.empty()) {
      result.push_back(p);
      p.clear();
    }
  }
  return result;
}

// Words of 1 to 9 letters: a batch of them pads sources and targets alike.
g2p::G2PData toy_data() {
  g2p::G2PData data;
  data.train = {{"cat", {phonemes("K AE T")}},
                {"tomato", {phonemes("T AH M EY T OW")}},
                {"a", {phonemes("AH")}},
                {"knight", {phonemes("N AY T")}},
                {"xylophone", {phonemes("Z AY L AH F OW N")}},
                {"toad", {phonemes("T OW D")}},
                {"face", {phonemes("F EY S")}}};
  data.letters = tg::data::letter_vocabulary(data.train);
  data.phonemes = tg::data::phoneme_vocabulary(data.train);
  return data;
}

std::unique_ptr<g2p::Seq2SeqModel> make_model(const std::string& kind, const g2p::G2PData& data,
                                              uint64_t seed) {
  g2p::ModelConfig config;
  config.embed_dim = 16;
  config.hidden = 24;
  config.encoder_layers = 2;
  config.decoder_layers = 2;
  config.heads = 2;
  config.ff_hidden = 32;
  config.dropout = 0.1f;
  tg::Generator gen(seed);
  std::unique_ptr<g2p::Seq2SeqModel> model;
  if (kind == "transformer") {
    model = std::make_unique<g2p::TransformerG2P>(config, data.letters.size(), data.phonemes.size(),
                                                  gen);
  } else {
    model = std::make_unique<g2p::LSTMG2P>(config, data.letters.size(), data.phonemes.size(), gen);
  }
  model->eval();
  return model;
}

// An untrained model may say <eos> at once; this one never does, so the decoders run every
// word to its length limit (2 * letters + 5) and feed prefixes of up to 24 symbols.
void forbid_eos(g2p::Seq2SeqModel& model) {
  for (const auto& [name, parameter] : model.named_parameters()) {
    if (name == "output.bias") parameter.data<float>()[tg::data::kEosId] = -30.0f;
  }
}

Seq2SeqBatch whole_batch(const g2p::G2PData& data) {
  const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
  return tg::data::make_seq2seq_batch(pairs, {0, 1, 2, 3, 4, 5, 6});
}

std::vector<int32_t> ints(const Tensor& t) { return t.to_vector<int32_t>(); }
std::vector<float> floats(const Tensor& t) { return t.to_vector<float>(); }

Tensor with_values(const std::vector<int32_t>& values, const Tensor& like) {
  return tg::from_vector(values, like.shape());
}

// log_softmax of the teacher-forced logits: [B, T, V].
Tensor teacher_forced(g2p::Seq2SeqModel& model, const Tensor& source, const Tensor& source_lengths,
                      const Tensor& target_in, const Tensor& target_lengths) {
  return tg::log_softmax(model.forward(source, source_lengths, target_in, target_lengths), 2);
}

// The largest |a - b| over positions t < lengths[b] of two [B, T, V] tensors.
float worst_over_real_positions(const Tensor& a, const Tensor& b,
                                const std::vector<int32_t>& lengths) {
  const int64_t steps = a.size(1), vocabulary = a.size(2);
  const std::vector<float> x = floats(a), y = floats(b);
  float worst = 0;
  for (size_t row = 0; row < lengths.size(); ++row) {
    for (int64_t i = 0; i < lengths[row] * vocabulary; ++i) {
      const size_t at = row * steps * vocabulary + i;
      worst = std::max(worst, std::abs(x[at] - y[at]));
    }
  }
  return worst;
}

// Wraps a model and records what the decoders ask of it: at every step, each row's source row
// and the prefix fed so far (<bos> first), following beam search's reorders, and the
// log-probabilities the model answered.
class RecordingModel : public g2p::Seq2SeqModel {
 public:
  struct Step {
    std::vector<int32_t> source_rows;
    std::vector<std::vector<int32_t>> prefixes;
    std::vector<float> log_probs;  // [rows, V]
  };
  explicit RecordingModel(g2p::Seq2SeqModel& inner) : Seq2SeqModel("Recording"), inner_(inner) {}

  Tensor forward(const Tensor& s, const Tensor& sl, const Tensor& t, const Tensor& tl) override {
    return inner_.forward(s, sl, t, tl);
  }
  std::unique_ptr<g2p::DecodeState> start_decoding(const Tensor& source,
                                                   const Tensor& source_lengths) override {
    auto state = std::make_unique<State>();
    state->inner = inner_.start_decoding(source, source_lengths);
    state->prefixes.resize(source.size(0));
    for (int32_t r = 0; r < source.size(0); ++r) state->source_rows.push_back(r);
    return state;
  }
  Tensor decode_step(g2p::DecodeState& base, const Tensor& previous) override {
    auto& state = dynamic_cast<State&>(base);
    const std::vector<int32_t> symbols = ints(previous);
    for (size_t r = 0; r < symbols.size(); ++r) state.prefixes[r].push_back(symbols[r]);
    const Tensor log_probs = inner_.decode_step(*state.inner, previous);
    steps.push_back({state.source_rows, state.prefixes, floats(log_probs)});
    return log_probs;
  }
  std::vector<g2p::AttentionMap> attention(const Tensor& s, const Tensor& t) override {
    return inner_.attention(s, t);
  }

  std::vector<Step> steps;

 private:
  struct State : g2p::DecodeState {
    std::unique_ptr<g2p::DecodeState> inner;
    std::vector<int32_t> source_rows;
    std::vector<std::vector<int32_t>> prefixes;
    void reorder(const Tensor& rows) override {
      inner->reorder(rows);
      std::vector<int32_t> kept_rows;
      std::vector<std::vector<int32_t>> kept_prefixes;
      for (int32_t row : ints(rows)) {
        kept_rows.push_back(source_rows[row]);
        kept_prefixes.push_back(prefixes[row]);
      }
      source_rows = std::move(kept_rows);
      prefixes = std::move(kept_prefixes);
    }
  };
  g2p::Seq2SeqModel& inner_;
};

// Replays every recorded step by teacher forcing: the source rows the step decoded, each
// prefix as target_in (no target padding: all prefixes of a step have one length). Returns the
// largest difference from the recorded log-probabilities at the prefix's last position.
float worst_replay_difference(g2p::Seq2SeqModel& model, const RecordingModel& recorded,
                              const Seq2SeqBatch& batch) {
  float worst = 0;
  for (const RecordingModel::Step& step : recorded.steps) {
    const auto rows = static_cast<int64_t>(step.source_rows.size());
    const auto length = static_cast<int64_t>(step.prefixes[0].size());
    std::vector<int32_t> target;
    for (const auto& prefix : step.prefixes)
      target.insert(target.end(), prefix.begin(), prefix.end());
    const Tensor row_index = tg::from_vector(step.source_rows, {rows});
    const Tensor log_probs = teacher_forced(
        model, tg::index_select(batch.source, 0, row_index),
        tg::index_select(batch.source_lengths, 0, row_index),
        tg::from_vector(target, {rows, length}),
        tg::from_vector(std::vector<int32_t>(rows, static_cast<int32_t>(length)), {rows}));
    const std::vector<float> last = floats(tg::select(log_probs, 1, length - 1));
    REQUIRE(last.size() == step.log_probs.size());
    for (size_t i = 0; i < last.size(); ++i)
      worst = std::max(worst, std::abs(last[i] - step.log_probs[i]));
  }
  return worst;
}

}  // namespace

TEST_CASE("decode_step on the true targets equals teacher forcing at every real position") {
  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    auto model = make_model(kind, data, 3);
    tg::NoGradGuard no_grad;
    const Seq2SeqBatch batch = whole_batch(data);
    const Tensor expected = teacher_forced(*model, batch.source, batch.source_lengths,
                                           batch.target_in, batch.target_lengths);
    const std::vector<int32_t> lengths = ints(batch.target_lengths);
    std::unique_ptr<g2p::DecodeState> state =
        model->start_decoding(batch.source, batch.source_lengths);
    std::vector<Tensor> steps;
    for (int64_t t = 0; t < batch.target_in.size(1); ++t)
      steps.push_back(model->decode_step(*state, tg::select(batch.target_in, 1, t)));
    const Tensor stepped = tg::stack(steps, 1);  // [B, T, V]
    CHECK(worst_over_real_positions(stepped, expected, lengths) < kTolerance);
    // Not vacuous: the distributions differ from step to step and from word to word.
    CHECK(worst_over_real_positions(
              stepped,
              tg::concat({tg::narrow(expected, 0, 1, 6), tg::narrow(expected, 0, 0, 1)}, 0),
              lengths) > 1e-2f);
  }
}

TEST_CASE("greedy and beam decoding ask for what teacher forcing gives on their prefixes") {
  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    auto model = make_model(kind, data, 5);
    forbid_eos(*model);
    const Seq2SeqBatch batch = whole_batch(data);
    for (const int64_t beam : {int64_t{1}, int64_t{3}}) {
      CAPTURE(beam);
      RecordingModel recording(*model);
      const auto decoded =
          beam == 1 ? g2p::greedy_decode(recording, batch.source, batch.source_lengths)
                    : g2p::beam_search(recording, batch.source, batch.source_lengths, beam);
      CHECK(decoded.size() == 7);
      CHECK(decoded[4].size() == g2p::max_output_length(9));  // "xylophone"
      CHECK(recording.steps.size() == g2p::max_output_length(9) + 1);
      tg::NoGradGuard no_grad;
      CHECK(worst_replay_difference(*model, recording, batch) < kTolerance);
    }
  }
}

TEST_CASE("a future target token changes nothing before it, in training and in decoding") {
  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    auto model = make_model(kind, data, 7);
    tg::NoGradGuard no_grad;
    const Seq2SeqBatch batch = whole_batch(data);
    const Tensor before = teacher_forced(*model, batch.source, batch.source_lengths,
                                         batch.target_in, batch.target_lengths);
    const int64_t steps = batch.target_in.size(1), changed_from = 2;
    const auto vocabulary = static_cast<int32_t>(data.phonemes.size());
    // Every token from position 2 on replaced (real or padding): positions 0 and 1 must not move.
    std::vector<int32_t> target = ints(batch.target_in);
    for (size_t i = 0; i < target.size(); ++i) {
      if (static_cast<int64_t>(i) % steps >= changed_from)
        target[i] = 4 + (target[i] + 5) % (vocabulary - 4);
    }
    const Tensor after = teacher_forced(*model, batch.source, batch.source_lengths,
                                        with_values(target, batch.target_in), batch.target_lengths);
    const std::vector<int32_t> unchanged(7, changed_from);
    CHECK(worst_over_real_positions(after, before, unchanged) == 0.0f);
    // Not vacuous: position 2 reads the changed token.
    CHECK(worst_over_real_positions(after, before, std::vector<int32_t>(7, changed_from + 1)) >
          1e-3f);
  }
}

TEST_CASE("padded letters change nothing, in training and in step-by-step decoding") {
  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    auto model = make_model(kind, data, 9);
    forbid_eos(*model);
    tg::NoGradGuard no_grad;
    const Seq2SeqBatch batch = whole_batch(data);
    const int64_t letters = batch.source.size(1);
    const std::vector<int32_t> source_lengths = ints(batch.source_lengths);
    // Every padded letter becomes a real letter id; for the real ones see the last check.
    std::vector<int32_t> noisy = ints(batch.source);
    for (size_t i = 0; i < noisy.size(); ++i) {
      if (static_cast<int64_t>(i) % letters >= source_lengths[i / letters])
        noisy[i] = 4 + static_cast<int32_t>(i % 7);
    }
    const Tensor noisy_source = with_values(noisy, batch.source);
    const std::vector<int32_t> target_lengths = ints(batch.target_lengths);
    const Tensor clean = teacher_forced(*model, batch.source, batch.source_lengths, batch.target_in,
                                        batch.target_lengths);
    CHECK(worst_over_real_positions(teacher_forced(*model, noisy_source, batch.source_lengths,
                                                   batch.target_in, batch.target_lengths),
                                    clean, target_lengths) < kTolerance);
    CHECK(g2p::greedy_decode(*model, noisy_source, batch.source_lengths) ==
          g2p::greedy_decode(*model, batch.source, batch.source_lengths));
    RecordingModel clean_steps(*model), noisy_steps(*model);
    g2p::beam_search(clean_steps, batch.source, batch.source_lengths, 2);
    g2p::beam_search(noisy_steps, noisy_source, batch.source_lengths, 2);
    REQUIRE(clean_steps.steps.size() == noisy_steps.steps.size());
    float worst = 0;
    for (size_t s = 0; s < clean_steps.steps.size(); ++s) {
      const auto& a = clean_steps.steps[s].log_probs;
      const auto& b = noisy_steps.steps[s].log_probs;
      for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    }
    CHECK(worst < kTolerance);
    // Not vacuous: the same change one letter earlier, on the last real letter of "xylophone"
    // (row 4, the longest word, so the only row without padding), does change its outputs.
    std::vector<int32_t> real_change = ints(batch.source);
    real_change[4 * letters + 8] = real_change[4 * letters + 8] == 4 ? 5 : 4;
    CHECK(worst_over_real_positions(
              teacher_forced(*model, with_values(real_change, batch.source), batch.source_lengths,
                             batch.target_in, batch.target_lengths),
              clean, target_lengths) > 1e-3f);
  }
}

TEST_CASE("padded target positions contribute nothing to the loss or its gradients") {
  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    auto model = make_model(kind, data, 11);
    const Seq2SeqBatch batch = whole_batch(data);
    const std::vector<int32_t> target_lengths = ints(batch.target_lengths);
    const int64_t steps = batch.target_in.size(1);
    for (const float smoothing : {0.0f, 0.1f}) {
      CAPTURE(smoothing);
      // The loss by hand: the mean over real tokens of -sum_j q_j log p_j, q = (1 - s) one_hot
      // + s / V; its gradients, then the same with every padded input token changed.
      auto loss_and_gradients = [&](const Tensor& target_in) {
        const Tensor logits =
            model->forward(batch.source, batch.source_lengths, target_in, batch.target_lengths);
        const Tensor loss =
            tg::sequence_cross_entropy(logits, batch.target_out, tg::data::kPadId, smoothing);
        model->zero_grad();
        loss.backward();
        std::vector<float> gradients;
        for (const Tensor& p : model->parameters()) {
          if (!p.grad().defined()) continue;
          const std::vector<float> g = floats(p.grad());
          gradients.insert(gradients.end(), g.begin(), g.end());
        }
        return std::make_pair(loss.item(), gradients);
      };
      const auto [loss, gradients] = loss_and_gradients(batch.target_in);

      Tensor log_probs;
      {
        tg::NoGradGuard no_grad;
        log_probs = teacher_forced(*model, batch.source, batch.source_lengths, batch.target_in,
                                   batch.target_lengths);
      }
      const std::vector<float> lp = floats(log_probs);
      const std::vector<int32_t> target_out = ints(batch.target_out);
      const int64_t vocabulary = log_probs.size(2);
      double total = 0;
      int64_t tokens = 0;
      for (int64_t row = 0; row < 7; ++row) {
        for (int64_t t = 0; t < target_lengths[row]; ++t, ++tokens) {
          const float* p = lp.data() + (row * steps + t) * vocabulary;
          double uniform = 0;
          for (int64_t v = 0; v < vocabulary; ++v) uniform -= p[v];
          total += -(1.0 - smoothing) * p[target_out[row * steps + t]] +
                   smoothing * uniform / static_cast<double>(vocabulary);
        }
      }
      CHECK(loss == doctest::Approx(total / static_cast<double>(tokens)).epsilon(1e-5));

      std::vector<int32_t> target_in = ints(batch.target_in);
      for (size_t i = 0; i < target_in.size(); ++i) {
        if (static_cast<int64_t>(i) % steps >= target_lengths[i / steps]) target_in[i] = 5;
      }
      const auto [padded_loss, padded_gradients] =
          loss_and_gradients(with_values(target_in, batch.target_in));
      CHECK(padded_loss == loss);
      REQUIRE(padded_gradients.size() == gradients.size());
      float worst = 0;
      for (size_t i = 0; i < gradients.size(); ++i)
        worst = std::max(worst, std::abs(gradients[i] - padded_gradients[i]));
      CHECK(worst < 1e-6f);
    }
  }
}
