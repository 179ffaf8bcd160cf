// An attentional LSTM encoder-decoder for grapheme-to-phoneme conversion (Bahdanau et al. 2015,
// with the input feeding of Luong et al. 2015).
//
//   encoder:  letters -> embedding -> bidirectional LSTM (encoder_layers deep)
//             memory m_j = [forward h_j, backward h_j], hidden features per letter
//   start:    h_0 = tanh(W_b [last layer's final forward h, final backward h]),  c_0 = 0
//   step t:   h_t, c_t = LSTMCell([embed(y_{t-1}), a_{t-1}], h_{t-1}, c_{t-1})
//             alpha_t  = softmax over real letters of score(h_t, m_j)        (padding masked)
//             context  = sum_j alpha_tj m_j
//             a_t      = dropout(tanh(W_c [h_t, context]))                  "attentional state"
//             p(y_t)   = softmax(W_o a_t)
// score is additive, w^T tanh(W_q h + W_k m) (config.attention = "additive"; W_k m is computed
// once per word, since it does not change between steps), or the scaled
// dot product (W_q h) . m / sqrt(hidden) ("dot"). Feeding a_{t-1} back in lets the decoder know
// where it looked last: G2P attention moves left to right through the letters, and this is what
// lets it keep its place. The decoder is one LSTMCell (config.decoder_layers is not used).
#pragma once

#include <memory>

#include "examples/g2p_common/seq2seq.h"
#include "layers/layers.h"

namespace g2p {

class LSTMG2P : public Seq2SeqModel {
 public:
  LSTMG2P(const ModelConfig& config, int64_t letters, int64_t phonemes,
          tg::Generator& gen = tg::default_generator());

  tg::Tensor forward(const tg::Tensor& source, const tg::Tensor& source_lengths,
                     const tg::Tensor& target_in, const tg::Tensor& target_lengths) override;
  std::unique_ptr<DecodeState> start_decoding(const tg::Tensor& source,
                                              const tg::Tensor& source_lengths) override;
  tg::Tensor decode_step(DecodeState& state, const tg::Tensor& previous) override;
  std::vector<AttentionMap> attention(const tg::Tensor& source,
                                      const tg::Tensor& target_in) override;

  tg::Embedding source_embedding, target_embedding;
  tg::LSTM encoder;
  tg::Linear bridge;
  tg::LSTMCell decoder;
  std::unique_ptr<tg::AdditiveAttention> additive_attention;  // "additive"
  std::unique_ptr<tg::Linear> query_projection;               // "dot"
  tg::Linear combine, output;
  tg::Dropout dropout;

 private:
  struct Recurrent {
    tg::Tensor h, c, attentional;
  };
  // What every decoder step attends to: the memory, the keys its scores read (additive: W_k m,
  // projected once here rather than at every step; dot: the memory itself) and the padding.
  struct Attended {
    tg::Tensor memory, keys, mask;  // [B, S, hidden], [B, S, hidden], keep-mask [B, S]
  };
  struct Encoded {
    Attended attended;
    Recurrent start;
  };
  Encoded encode(const tg::Tensor& source, const tg::Tensor& source_lengths) const;
  // One decoder step; weights (if given) receives alpha_t [N, 1, S].
  void step(const tg::Tensor& embedded, Recurrent& state, const Attended& attended,
            tg::Tensor* weights) const;
  int64_t hidden_;
};

}  // namespace g2p
