// The models that bench_workloads times, written with tapegrad's layers the way a user would.
// bench/compare_pytorch.py builds the same models in PyTorch; keep the two in step (shapes,
// initialisation, dropout, activation) or the comparison means nothing.
//
// Every model returns the scalar loss of one batch; the program around it does backward and
// the optimizer step.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/layers.h"

namespace bench {

using tg::Tensor;

// 784-256-256-10 with ReLU: the shape of an MNIST classifier.
struct Mlp : tg::Module {
  tg::Linear hidden1, hidden2, output;
  explicit Mlp(tg::Generator& gen)
      : Module("Mlp"),
        hidden1(784, 256, true, gen),
        hidden2(256, 256, true, gen),
        output(256, 10, true, gen) {
    register_module("hidden1", hidden1);
    register_module("hidden2", hidden2);
    register_module("output", output);
  }
  Tensor loss(const Tensor& images, const Tensor& labels) const {
    const Tensor h = tg::relu(hidden2(tg::relu(hidden1(images))));
    return tg::cross_entropy(output(h), labels);
  }
};

// G2P as a recurrent seq2seq with Luong-style dot-product attention and input feeding:
//   encoder: embedding 64, bidirectional LSTM 128 per direction -> memory [B, S, 256]
//   decoder: LSTMCell over [embedding(y_{t-1}), context_{t-1}] (64 + 256 -> 256), starting
//            from the encoder's final states (both directions side by side);
//            score_s = memory_s . h_t, weights = softmax over the real source positions,
//            context_t = sum_s weights_s memory_s, logits_t = out([h_t, context_t]).
// The decoder is stepped by hand, as a beam search would have to.
struct G2PLSTM : tg::Module {
  static constexpr int64_t pad_id = 0;
  tg::Embedding source_embedding, target_embedding;
  tg::LSTM encoder;
  tg::LSTMCell decoder;
  tg::Linear output;
  explicit G2PLSTM(tg::Generator& gen)
      : Module("G2PLSTM"),
        source_embedding(40, 64, pad_id, gen),
        target_embedding(43, 64, pad_id, gen),
        encoder(64, 128, tg::LSTMOptions{.bidirectional = true}, gen),
        decoder(64 + 256, 256, true, gen),
        output(256 + 256, 43, true, gen) {
    register_module("source_embedding", source_embedding);
    register_module("target_embedding", target_embedding);
    register_module("encoder", encoder);
    register_module("decoder", decoder);
    register_module("output", output);
  }
  // source [B, S] ids, source_lengths [B], target_in / target_out [B, T] ids (pad 0).
  Tensor loss(const Tensor& source, const Tensor& source_lengths, const Tensor& target_in,
              const Tensor& target_out) const {
    const int64_t batch = source.size(0), source_len = source.size(1);
    const tg::LSTMOutput encoded = encoder(source_embedding(source), source_lengths);
    const Tensor& memory = encoded.output;            // [B, S, 256]
    auto both_directions = [](const Tensor& state) {  // [2, B, 128] -> [B, 256]
      return tg::concat({tg::select(state, 0, 0), tg::select(state, 0, 1)}, 1);
    };
    tg::LSTMState state{both_directions(encoded.h), both_directions(encoded.c)};
    const Tensor keep =
        tg::key_padding_mask(source_lengths, source_len).reshape({batch, source_len});
    const Tensor embedded = target_embedding(target_in);  // [B, T, 64]
    Tensor context = tg::zeros({batch, 256});
    std::vector<Tensor> logits;
    for (int64_t t = 0; t < target_in.size(1); ++t) {
      state = decoder(tg::concat({tg::select(embedded, 1, t), context}, 1), state);
      const Tensor scores = tg::matmul(memory, state.h.unsqueeze(2)).squeeze(2);  // [B, S]
      const Tensor weights = tg::softmax(scores, 1, keep);
      context = tg::matmul(weights.unsqueeze(1), memory).squeeze(1);  // [B, 256]
      logits.push_back(output(tg::concat({state.h, context}, 1)));
    }
    return tg::sequence_cross_entropy(tg::stack(logits, 1), target_out, pad_id);
  }
};

// G2P as a transformer: d_model 128, 4 heads, 2 encoder + 2 decoder post-norm layers, ff 512
// (GELU), dropout 0.1, sinusoidal positions, embeddings scaled by sqrt(d_model), label
// smoothing 0.1.
struct G2PTransformer : tg::Module {
  static constexpr int64_t pad_id = 0, d_model = 128;
  tg::Embedding source_embedding, target_embedding;
  tg::PositionalEncoding positions;
  tg::TransformerEncoder encoder;
  tg::TransformerDecoder decoder;
  tg::Linear output;
  explicit G2PTransformer(tg::Generator& gen)
      : Module("G2PTransformer"),
        source_embedding(40, d_model, pad_id, gen),
        target_embedding(43, d_model, pad_id, gen),
        positions(d_model, 64, 0.1f, gen),
        encoder(2, d_model, 4, 512,
                {.dropout = 0.1f, .norm_first = false, .activation = tg::Activation::Gelu}, gen),
        decoder(2, d_model, 4, 512,
                {.dropout = 0.1f, .norm_first = false, .activation = tg::Activation::Gelu}, gen),
        output(d_model, 43, true, gen) {
    register_module("source_embedding", source_embedding);
    register_module("target_embedding", target_embedding);
    register_module("positions", positions);
    register_module("encoder", encoder);
    register_module("decoder", decoder);
    register_module("output", output);
  }
  Tensor loss(const Tensor& source, const Tensor& source_lengths, const Tensor& target_in,
              const Tensor& target_lengths, const Tensor& target_out) {
    const float scale = std::sqrt(static_cast<float>(d_model));
    const Tensor memory = encoder(positions(source_embedding(source) * scale), source_lengths);
    const Tensor h = decoder(positions(target_embedding(target_in) * scale), memory, target_lengths,
                             source_lengths);
    return tg::sequence_cross_entropy(output(h), target_out, pad_id, 0.1f);
  }
};

// A small vision transformer for 28x28 images (Fashion-MNIST): 16 patches of 7x7 pixels, each
// projected to 64 features, a learned class token in front, learned positions, 2 pre-norm
// encoder layers (4 heads, ff 256, no dropout), and a linear head on the class token: the
// model examples/fashion_attention trains (until 2026-12-02 this workload had ff 128 and dropout
// 0.1, the program's defaults of an earlier day).
struct VisionClassifier : tg::Module {
  static constexpr int64_t d_model = 64, patches = 16, patch_pixels = 49;
  tg::Linear patch_embedding;
  Tensor class_token;  // [1, 1, d_model]
  tg::LearnedPositionalEmbedding positions;
  tg::TransformerEncoder encoder;
  tg::Linear head;
  explicit VisionClassifier(tg::Generator& gen)
      : Module("VisionClassifier"),
        patch_embedding(patch_pixels, d_model, true, gen),
        positions(patches + 1, d_model, gen),
        encoder(2, d_model, 4, 256,
                {.dropout = 0.0f, .norm_first = true, .activation = tg::Activation::Gelu}, gen),
        head(d_model, 10, true, gen) {
    register_module("patch_embedding", patch_embedding);
    class_token = register_parameter("class_token", tg::randn({1, 1, d_model}, gen, 0.0f, 0.02f));
    register_module("positions", positions);
    register_module("encoder", encoder);
    register_module("head", head);
  }
  // images [B, 784] -> patches [B, 16, 49]: row-major 28x28 is [4, 7, 4, 7] (patch row, pixel
  // row, patch column, pixel column), so swapping the middle two groups the pixels by patch.
  Tensor loss(const Tensor& images, const Tensor& labels) const {
    const int64_t batch = images.size(0);
    const Tensor patch_rows = images.reshape({batch, 4, 7, 4, 7})
                                  .permute({0, 1, 3, 2, 4})
                                  .reshape({batch, patches, patch_pixels});
    Tensor x = patch_embedding(patch_rows);
    x = tg::concat({tg::expand(class_token, {batch, 1, d_model}), x}, 1);
    x = encoder(positions(x));
    return tg::cross_entropy(head(tg::select(x, 1, 0)), labels);
  }
};

}  // namespace bench
