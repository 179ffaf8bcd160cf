// Host copies per training step on the GPU: none. Each device-to-host copy waits for every
// kernel queued before it, so a step that copied ids, targets or lengths to the host to check
// them would run the GPU in lockstep with the host. The count is of copy_to_host calls
// (framework/backend/host_copies.h); on the emulator they are the real device-to-host copies.
#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "framework/backend/host_copies.h"
#include "optim/optim.h"
#include "tests/cuda/layer_parity.h"

namespace tg::testing {
namespace {

constexpr int64_t kHidden = 8;

// An encoder-decoder as examples/g2p_lstm builds one: a bidirectional LSTM over the padded
// sources (with their lengths), an LSTMCell decoder attending to it through additive attention
// masked by the source lengths, and an output projection.
struct TinyLSTMSeq2Seq : Module {
  Embedding source_embedding, target_embedding;
  LSTM encoder;
  LSTMCell decoder;
  AdditiveAttention attention;
  Linear output;

  explicit TinyLSTMSeq2Seq(Generator& gen)
      : Module("TinyLSTMSeq2Seq"),
        source_embedding(kVocab, kModel, kPad, gen),
        target_embedding(kVocab, kModel, kPad, gen),
        encoder(kModel, kHidden / 2, {.dropout = kDropout, .bidirectional = true}, gen),
        decoder(kModel + kHidden, kHidden, true, gen),
        attention(kHidden, kHidden, kHidden, 0.0f, gen),
        output(kHidden, kVocab, true, gen) {
    register_module("source_embedding", source_embedding);
    register_module("target_embedding", target_embedding);
    register_module("encoder", encoder);
    register_module("decoder", decoder);
    register_module("attention", attention);
    register_module("output", output);
  }

  // Logits [B, Lt, kVocab], by teacher forcing.
  Tensor forward(const Tensor& source, const Tensor& source_lengths, const Tensor& target_in) {
    const Tensor memory = encoder(source_embedding(source), source_lengths).output;
    const AttentionMask mask =
        AttentionMask::keep(key_padding_mask(source_lengths, source.size(1)).squeeze(1));
    const Tensor embedded = target_embedding(target_in);
    const int64_t batch = source.size(0);
    LSTMState state = decoder.zero_state(batch, source.device());
    Tensor context = zeros({batch, kHidden}, DType::Float32, source.device());
    std::vector<Tensor> steps;
    for (int64_t t = 0; t < target_in.size(1); ++t) {
      state = decoder(concat({select(embedded, 1, t), context}, 1), state);
      context = attention(state.h.unsqueeze(1), memory, memory, mask).output.squeeze(1);
      steps.push_back(context);
    }
    return output(stack(steps, 1));
  }
};

// One step as examples/g2p_common/training.cpp runs it. Returns the host copies of {forward,
// loss, backward and AdamW; clip_grad_norm}.
template <class Forward>
std::pair<int64_t, int64_t> host_copies_of_a_step(Module& model, Optimizer& optimizer,
                                                  const Seq2SeqBatch& batch, Forward forward) {
  const int64_t start = host_copy_count();
  const Tensor loss = sequence_cross_entropy(forward(batch), batch.target_out, kPad);
  optimizer.zero_grad();
  loss.backward();
  const int64_t before_clip = host_copy_count();
  clip_grad_norm(model.parameters(), 1.0);
  const int64_t after_clip = host_copy_count();
  optimizer.step();
  const int64_t end = host_copy_count();
  return {(before_clip - start) + (end - after_clip), after_clip - before_clip};
}

template <class Model, class Forward>
void check_no_host_copies(const std::string& name, Model& model, Forward forward) {
  model.to(Device::CUDA);
  AdamW optimizer(model.parameters(), {});
  const Seq2SeqBatch batch = seq2seq_batch().to(Device::CUDA);
  host_copies_of_a_step(model, optimizer, batch, forward);  // warm
  const auto [step, clip] = host_copies_of_a_step(model, optimizer, batch, forward);
  MESSAGE(name << ": device-to-host copies per training step " << step << ", in clip_grad_norm "
               << clip);
  CHECK(step == 0);
  // clip_grad_norm returns the norm (a double), so it reads it: one copy, for all parameters.
  CHECK(clip == 1);
}

TEST_CASE("a Transformer training step on the GPU copies nothing to the host") {
  Generator gen(3);
  TinySeq2Seq model(2, gen);
  check_no_host_copies("Transformer", model, [&](const Seq2SeqBatch& b) {
    return model.forward(b.source, b.source_lengths, b.target_in, b.target_lengths);
  });
}

TEST_CASE("an LSTM training step on the GPU copies nothing to the host") {
  Generator gen(4);
  TinyLSTMSeq2Seq model(gen);
  check_no_host_copies("LSTM", model, [&](const Seq2SeqBatch& b) {
    return model.forward(b.source, b.source_lengths, b.target_in);
  });
}

}  // namespace
}  // namespace tg::testing
