#include "examples/g2p_lstm/g2p_lstm.h"

#include <cmath>

#include "examples/datasets/vocabulary.h"

namespace g2p {

namespace {

tg::LSTMOptions encoder_options(const ModelConfig& config) {
  tg::LSTMOptions options;
  options.num_layers = config.encoder_layers;
  options.batch_first = true;
  options.dropout = config.dropout;
  options.bidirectional = true;
  return options;
}

// Everything on the model's device, so that a decoding step copies nothing to the host but
// the log-probabilities it returns.
struct LSTMDecodeState : DecodeState {
  tg::Tensor memory, keys, mask;  // mask: the source lengths as a keep-mask [N, S]
  tg::Tensor h, c, attentional;
  void reorder(const tg::Tensor& rows) override {
    const tg::Tensor on_device = rows.to(memory.device());
    for (tg::Tensor* kept : {&memory, &keys, &mask, &h, &c, &attentional})
      *kept = tg::index_select(*kept, 0, on_device);
  }
};

}  // namespace

LSTMG2P::LSTMG2P(const ModelConfig& config, int64_t letters, int64_t phonemes, tg::Generator& gen)
    : Seq2SeqModel("LSTMG2P"),
      source_embedding(letters, config.embed_dim, tg::data::kPadId, gen),
      target_embedding(phonemes, config.embed_dim, tg::data::kPadId, gen),
      encoder(config.embed_dim, config.hidden / 2, encoder_options(config), gen),
      bridge(config.hidden, config.hidden, true, gen),
      decoder(config.embed_dim + config.hidden, config.hidden, true, gen),
      combine(2 * config.hidden, config.hidden, true, gen),
      output(config.hidden, phonemes, true, gen),
      dropout(config.dropout, gen),
      hidden_(config.hidden) {
  tg::check(config.hidden % 2 == 0, "LSTMG2P: hidden must be even (two directions), got ",
            config.hidden);
  register_module("source_embedding", source_embedding);
  register_module("target_embedding", target_embedding);
  register_module("encoder", encoder);
  register_module("bridge", bridge);
  register_module("decoder", decoder);
  if (config.attention == "additive") {
    additive_attention = std::make_unique<tg::AdditiveAttention>(config.hidden, config.hidden,
                                                                 config.hidden, 0.0f, gen);
    register_module("attention", *additive_attention);
  } else {
    tg::check(config.attention == "dot", "LSTMG2P: attention must be 'additive' or 'dot', got '",
              config.attention, "'");
    query_projection = std::make_unique<tg::Linear>(config.hidden, config.hidden, false, gen);
    register_module("query_projection", *query_projection);
  }
  register_module("combine", combine);
  register_module("output", output);
  register_module("dropout", dropout);
}

LSTMG2P::Encoded LSTMG2P::encode(const tg::Tensor& source, const tg::Tensor& source_lengths) const {
  const tg::LSTMOutput encoded = encoder(dropout(source_embedding(source)), source_lengths);
  const int64_t top = 2 * (encoder.options().num_layers - 1);  // last layer's forward direction
  const tg::Tensor final_states =
      tg::concat({tg::select(encoded.h, 0, top), tg::select(encoded.h, 0, top + 1)}, 1);
  Encoded result;
  result.attended.memory = encoded.output;
  result.attended.keys =
      additive_attention ? additive_attention->project_keys(encoded.output) : encoded.output;
  result.attended.mask = tg::key_padding_mask(source_lengths, source.size(1)).squeeze(1);
  const int64_t batch = source.size(0);
  result.start.h = tg::tanh(bridge(final_states));
  result.start.c = tg::zeros({batch, hidden_}, tg::DType::Float32, source.device());
  result.start.attentional = tg::zeros({batch, hidden_}, tg::DType::Float32, source.device());
  return result;
}

void LSTMG2P::step(const tg::Tensor& embedded, Recurrent& state, const Attended& attended_to,
                   tg::Tensor* weights) const {
  const tg::LSTMState next =
      decoder(tg::concat({embedded, state.attentional}, 1), {state.h, state.c});
  const tg::Tensor query = next.h.unsqueeze(1);  // [N, 1, hidden]
  const auto& [memory, keys, mask] = attended_to;
  const tg::AttentionMask keep = tg::AttentionMask::keep(mask);
  const tg::AttentionResult attended =
      additive_attention
          ? additive_attention->forward_projected(query, keys, memory, keep)
          : tg::scaled_dot_product_attention((*query_projection)(query), keys, memory, keep);
  const tg::Tensor context = attended.output.squeeze(1);  // [N, hidden]
  state.h = next.h;
  state.c = next.c;
  state.attentional = dropout(tg::tanh(combine(tg::concat({next.h, context}, 1))));
  if (weights != nullptr) *weights = attended.weights;
}

tg::Tensor LSTMG2P::forward(const tg::Tensor& source, const tg::Tensor& source_lengths,
                            const tg::Tensor& target_in, const tg::Tensor& /*target_lengths*/) {
  tg::check(source.dim() == 2 && target_in.dim() == 2 && source.size(0) == target_in.size(0), *this,
            ": expected source [B, S] and target_in [B, T], got ", source.shape(), " and ",
            target_in.shape());
  Encoded encoded = encode(source, source_lengths);
  const tg::Tensor embedded = dropout(target_embedding(target_in));  // [B, T, E]
  std::vector<tg::Tensor> attentional;
  for (int64_t t = 0; t < target_in.size(1); ++t) {
    step(tg::select(embedded, 1, t), encoded.start, encoded.attended, nullptr);
    attentional.push_back(encoded.start.attentional);
  }
  return output(tg::stack(attentional, 1));  // [B, T, phonemes]: one gemm for every step
}

std::unique_ptr<DecodeState> LSTMG2P::start_decoding(const tg::Tensor& source,
                                                     const tg::Tensor& source_lengths) {
  Encoded encoded = encode(source, source_lengths);
  auto state = std::make_unique<LSTMDecodeState>();
  state->memory = encoded.attended.memory;
  state->keys = encoded.attended.keys;
  state->mask = encoded.attended.mask;
  state->h = encoded.start.h;
  state->c = encoded.start.c;
  state->attentional = encoded.start.attentional;
  return state;
}

tg::Tensor LSTMG2P::decode_step(DecodeState& base, const tg::Tensor& previous) {
  auto& state = dynamic_cast<LSTMDecodeState&>(base);
  Recurrent recurrent{state.h, state.c, state.attentional};
  step(target_embedding(previous), recurrent, {state.memory, state.keys, state.mask}, nullptr);
  state.h = recurrent.h;
  state.c = recurrent.c;
  state.attentional = recurrent.attentional;
  return tg::log_softmax(output(recurrent.attentional), 1);
}

std::vector<AttentionMap> LSTMG2P::attention(const tg::Tensor& source,
                                             const tg::Tensor& target_in) {
  tg::NoGradGuard no_grad;
  Encoded encoded = encode(
      source, tg::from_vector(std::vector<int32_t>{static_cast<int32_t>(source.size(1))}, {1})
                  .to(source.device()));
  const tg::Tensor embedded = target_embedding(target_in);
  AttentionMap map{"attention", {}};
  for (int64_t t = 0; t < target_in.size(1); ++t) {
    tg::Tensor weights;
    step(tg::select(embedded, 1, t), encoded.start, encoded.attended, &weights);
    map.weights.push_back(weights.to_vector<float>());
  }
  return {map};
}

}  // namespace g2p
