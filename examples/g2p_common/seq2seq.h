// What the G2P programs need from a model, so that one training loop, one decoder and one
// command line serve both the LSTM and the Transformer.
//
// A model is trained with teacher forcing (forward: the whole target at once) and decodes one
// step at a time (start_decoding, then decode_step per output symbol). The decoding state holds
// one row per hypothesis; beam search keeps the rows it wants with reorder().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/checkpoint.h"
#include "layers/module.h"

namespace g2p {

// The size of a model; each architecture reads the fields it uses. Saved in checkpoints as
// "config.<field>" so that --predict rebuilds the very model it trained.
struct ModelConfig {
  int64_t embed_dim = 128;
  int64_t hidden = 256;  // LSTM: encoder outputs (both directions) and decoder state
  int64_t encoder_layers = 2;
  int64_t decoder_layers = 1;
  int64_t heads = 4;        // Transformer only
  int64_t ff_hidden = 512;  // Transformer only
  float dropout = 0.2f;
  std::string attention = "additive";  // LSTM only: "additive" or "dot"
  std::string norm = "pre";            // Transformer only: LayerNorm "pre" or "post" sublayer
  int64_t encoder_window = 0;  // Transformer only: a letter attends to letters within +-W (0: all)

  void save(tg::Checkpoint& checkpoint) const;
  static ModelConfig load(const tg::Checkpoint& checkpoint);
};

// Per-hypothesis decoder state: rows are hypotheses.
struct DecodeState {
  virtual ~DecodeState() = default;
  // Keeps rows[0], rows[1], ... (Int32 [N']): a row may be kept twice or dropped.
  virtual void reorder(const tg::Tensor& rows) = 0;
};

// One picture of attention: weights [output steps, source letters].
struct AttentionMap {
  std::string name;  // "layer 1 head 2", or "attention"
  std::vector<std::vector<float>> weights;
  int64_t layer = 0;  // the picture puts each layer's heads in one row
};

class Seq2SeqModel : public tg::Module {
 public:
  using tg::Module::Module;

  // Teacher forcing: source Int32 [B, S], source_lengths [B], target_in [B, T] (starting with
  // <bos>), target_lengths [B] -> logits [B, T, phoneme vocabulary].
  virtual tg::Tensor forward(const tg::Tensor& source, const tg::Tensor& source_lengths,
                             const tg::Tensor& target_in, const tg::Tensor& target_lengths) = 0;

  // Encodes the sources; the state has one row per source.
  virtual std::unique_ptr<DecodeState> start_decoding(const tg::Tensor& source,
                                                      const tg::Tensor& source_lengths) = 0;
  // Feeds each row's previous symbol (Int32 [N]) and returns the log-probabilities of the next
  // one, [N, phoneme vocabulary].
  virtual tg::Tensor decode_step(DecodeState& state, const tg::Tensor& previous) = 0;

  // Cross-attention of one word (source [1, S]) while reading target_in [1, T] by teacher
  // forcing: every map is [T, S].
  virtual std::vector<AttentionMap> attention(const tg::Tensor& source,
                                              const tg::Tensor& target_in) = 0;
};

}  // namespace g2p
