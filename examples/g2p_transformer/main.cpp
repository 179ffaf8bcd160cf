// g2p_transformer: pronounces English words with a Transformer encoder-decoder trained on
// CMUdict. See README.md and g2p_transformer.h; g2p_common/cli.h has the flags.
#include "examples/g2p_common/cli.h"
#include "examples/g2p_transformer/g2p_transformer.h"

int main(int argc, char** argv) {
  g2p::ProgramSpec spec;
  spec.name = "g2p_transformer";
  spec.family = g2p::ModelFamily::Transformer;
  spec.description = "Transformer encoder-decoder with label smoothing, on CMUdict.";
  spec.out_dir = "out/g2p_transformer";
  spec.config.embed_dim = 128;
  spec.config.encoder_layers = 3;
  spec.config.decoder_layers = 3;
  spec.config.heads = 4;
  spec.config.ff_hidden = 512;
  spec.config.dropout = 0.1f;
  spec.config.norm = "pre";
  spec.train.epochs = 19;
  spec.train.batch_size = 64;
  spec.train.lr = 2e-3;
  spec.train.schedule = "cosine";
  spec.train.warmup_steps = 1000;
  spec.train.label_smoothing = 0.1f;
  spec.train.weight_decay = 0.01;
  spec.train.clip_norm = 1.0;
  spec.make_model = [](const g2p::ModelConfig& config, int64_t letters, int64_t phonemes) {
    return std::make_unique<g2p::TransformerG2P>(config, letters, phonemes);
  };
  return g2p::run_program(argc, argv, spec);
}
