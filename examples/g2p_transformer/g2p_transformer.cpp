#include "examples/g2p_transformer/g2p_transformer.h"

#include <cmath>

#include "examples/datasets/vocabulary.h"
#include "layers/init.h"

namespace g2p {

namespace {

constexpr int64_t kMaxPositions = 128;

// Vaswani et al.'s embedding: weights N(0, 1/d), read multiplied by sqrt(d).
void init_scaled_embedding(tg::Embedding& embedding, tg::Generator& gen) {
  const auto d = static_cast<float>(embedding.embedding_dim);
  tg::init::normal_(embedding.weight, 0.0f, 1.0f / std::sqrt(d), gen);
  tg::Tensor padding_row = tg::narrow(embedding.weight, 0, embedding.padding_idx, 1);
  tg::init::zeros_(padding_row);
}

// The decoder's input so far, kept on the host: each step appends one column.
struct TransformerDecodeState : DecodeState {
  tg::Tensor memory, source_lengths;
  std::vector<std::vector<int32_t>> prefixes;  // one per row, starting with <bos> once fed
  void reorder(const tg::Tensor& rows) override {
    const tg::Tensor on_device = rows.to(memory.device());
    memory = tg::index_select(memory, 0, on_device);
    source_lengths = tg::index_select(source_lengths, 0, on_device);
    std::vector<std::vector<int32_t>> kept_prefixes;
    for (int32_t row : rows.to_vector<int32_t>()) kept_prefixes.push_back(prefixes[row]);
    prefixes = std::move(kept_prefixes);
  }
};

// Pre-norm (LayerNorm inside each residual branch) unless --norm post; GELU in the feed-forward
// networks.
tg::TransformerOptions transformer_options(const ModelConfig& config) {
  tg::check(config.norm == "pre" || config.norm == "post",
            "TransformerG2P: norm must be \"pre\" or \"post\", got \"", config.norm, "\"");
  return {.dropout = config.dropout,
          .norm_first = config.norm == "pre",
          .activation = tg::Activation::Gelu};
}

}  // namespace

TransformerG2P::TransformerG2P(const ModelConfig& config, int64_t letters, int64_t phonemes,
                               tg::Generator& gen)
    : Seq2SeqModel("TransformerG2P"),
      source_embedding(letters, config.embed_dim, tg::data::kPadId, gen),
      target_embedding(phonemes, config.embed_dim, tg::data::kPadId, gen),
      source_positions(config.embed_dim, kMaxPositions, config.dropout, gen),
      target_positions(config.embed_dim, kMaxPositions, config.dropout, gen),
      encoder(config.encoder_layers, config.embed_dim, config.heads, config.ff_hidden,
              transformer_options(config), gen),
      decoder(config.decoder_layers, config.embed_dim, config.heads, config.ff_hidden,
              transformer_options(config), gen),
      output(config.embed_dim, phonemes, true, gen) {
  register_module("source_embedding", source_embedding);
  register_module("target_embedding", target_embedding);
  register_module("source_positions", source_positions);
  register_module("target_positions", target_positions);
  register_module("encoder", encoder);
  register_module("decoder", decoder);
  register_module("output", output);
  init_scaled_embedding(source_embedding, gen);
  init_scaled_embedding(target_embedding, gen);
  embedding_scale_ = std::sqrt(static_cast<float>(config.embed_dim));
  tg::check(config.encoder_window >= 0, "TransformerG2P: encoder_window must be >= 0 (0: every ",
            "letter), got ", config.encoder_window);
  encoder_window_ = config.encoder_window;
}

tg::Tensor TransformerG2P::encode(const tg::Tensor& source,
                                  const tg::Tensor& source_lengths) const {
  const tg::Tensor x = source_positions(source_embedding(source) * embedding_scale_);
  if (encoder_window_ == 0) return encoder(x, source_lengths);
  // --encoder-window W: letter i attends to letters i-W .. i+W only (and not to padding), so a
  // layer sees a neighbourhood, as a convolution does, and L layers see +-L*W letters.
  const tg::AttentionMask local =
      tg::AttentionMask::keep(tg::window_mask(source.size(1), encoder_window_, source.device()));
  return encoder(x, source_lengths, local);
}

tg::Tensor TransformerG2P::decode(const tg::Tensor& target_in, const tg::Tensor& memory,
                                  const tg::Tensor& target_lengths,
                                  const tg::Tensor& source_lengths) {
  return decoder(target_positions(target_embedding(target_in) * embedding_scale_), memory,
                 target_lengths, source_lengths);
}

tg::Tensor TransformerG2P::forward(const tg::Tensor& source, const tg::Tensor& source_lengths,
                                   const tg::Tensor& target_in, const tg::Tensor& target_lengths) {
  tg::check(source.dim() == 2 && target_in.dim() == 2 && source.size(0) == target_in.size(0), *this,
            ": expected source [B, S] and target_in [B, T], got ", source.shape(), " and ",
            target_in.shape());
  const tg::Tensor memory = encode(source, source_lengths);
  return output(decode(target_in, memory, target_lengths, source_lengths));
}

std::unique_ptr<DecodeState> TransformerG2P::start_decoding(const tg::Tensor& source,
                                                            const tg::Tensor& source_lengths) {
  auto state = std::make_unique<TransformerDecodeState>();
  state->memory = encode(source, source_lengths);
  state->source_lengths = source_lengths;
  state->prefixes.resize(source.size(0));
  return state;
}

tg::Tensor TransformerG2P::decode_step(DecodeState& base, const tg::Tensor& previous) {
  auto& state = dynamic_cast<TransformerDecodeState&>(base);
  const std::vector<int32_t> symbols = previous.to_vector<int32_t>();
  std::vector<int32_t> ids;
  for (size_t row = 0; row < symbols.size(); ++row) {
    state.prefixes[row].push_back(symbols[row]);
    ids.insert(ids.end(), state.prefixes[row].begin(), state.prefixes[row].end());
  }
  const auto rows = static_cast<int64_t>(symbols.size());
  const auto length = static_cast<int64_t>(state.prefixes[0].size());
  const tg::Tensor target_in = tg::from_vector(ids, {rows, length}).to(state.memory.device());
  const tg::Tensor hidden = decode(target_in, state.memory, {}, state.source_lengths);
  return tg::log_softmax(output(tg::select(hidden, 1, length - 1)), 1);
}

std::vector<AttentionMap> TransformerG2P::attention(const tg::Tensor& source,
                                                    const tg::Tensor& target_in) {
  tg::NoGradGuard no_grad;
  const tg::Tensor lengths =
      tg::from_vector(std::vector<int32_t>{static_cast<int32_t>(source.size(1))}, {1})
          .to(source.device());
  decoder.keep_cross_attention(true);
  forward(source, lengths, target_in, {});
  decoder.keep_cross_attention(false);
  std::vector<AttentionMap> maps;
  for (size_t l = 0; l < decoder.num_layers(); ++l) {
    const tg::Tensor weights = decoder.layer(l).last_cross_attention;  // [1, heads, T, S]
    const int64_t heads = weights.size(1), steps = weights.size(2), letters = weights.size(3);
    const std::vector<float> values = weights.to_vector<float>();
    for (int64_t h = 0; h < heads; ++h) {
      AttentionMap map{"layer " + std::to_string(l + 1) + " head " + std::to_string(h + 1),
                       {},
                       static_cast<int64_t>(l)};
      for (int64_t t = 0; t < steps; ++t) {
        const float* row = values.data() + (h * steps + t) * letters;
        map.weights.emplace_back(row, row + letters);
      }
      maps.push_back(std::move(map));
    }
  }
  return maps;
}

}  // namespace g2p
