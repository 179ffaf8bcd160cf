// g2p_lstm: pronounces English words with an attentional LSTM encoder-decoder trained on
// CMUdict. See README.md and g2p_lstm.h; g2p_common/cli.h has the flags.
#include "examples/g2p_common/cli.h"
#include "examples/g2p_lstm/g2p_lstm.h"

int main(int argc, char** argv) {
  g2p::ProgramSpec spec;
  spec.name = "g2p_lstm";
  spec.family = g2p::ModelFamily::LSTM;
  spec.description = "Bidirectional LSTM encoder, LSTM decoder with attention, on CMUdict.";
  spec.out_dir = "out/g2p_lstm";
  spec.config.embed_dim = 64;
  spec.config.hidden = 256;
  spec.config.encoder_layers = 2;
  spec.config.dropout = 0.2f;
  spec.config.attention = "additive";
  spec.train.epochs = 26;
  spec.train.batch_size = 64;
  spec.train.lr = 2e-3;
  spec.train.schedule = "cosine";
  spec.train.warmup_steps = 200;
  spec.train.clip_norm = 1.0;
  spec.make_model = [](const g2p::ModelConfig& config, int64_t letters, int64_t phonemes) {
    return std::make_unique<g2p::LSTMG2P>(config, letters, phonemes);
  };
  return g2p::run_program(argc, argv, spec);
}
