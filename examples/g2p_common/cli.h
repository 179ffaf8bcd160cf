// The command line shared by g2p_lstm and g2p_transformer: train, evaluate, predict, draw.
//
//   g2p_<model> [flags]                      train, then score the test words and draw attention
//   g2p_<model> --evaluate [--beam K]        score the test words with a trained model
//   g2p_<model> --predict [WORD...|-]        pronounce words (from the arguments, or stdin)
//
// Each program gives its defaults and how to build its model; everything else is here.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "examples/g2p_common/seq2seq.h"
#include "examples/g2p_common/training.h"

namespace g2p {

// Which model a program trains: it decides which model flags the program offers (each family
// has its own; the other family's flags, which the model would ignore, are refused by name).
enum class ModelFamily {
  LSTM,         // --hidden, --attention
  Transformer,  // --decoder-layers, --heads, --ff
};

struct ProgramSpec {
  std::string name;                        // "g2p_lstm"
  ModelFamily family = ModelFamily::LSTM;  // which model flags it offers
  std::string description;                 // one line for --help
  ModelConfig config;                      // defaults
  TrainOptions train;                      // defaults
  std::string out_dir;                     // default output folder
  std::function<std::unique_ptr<Seq2SeqModel>(const ModelConfig&, int64_t letters,
                                              int64_t phonemes)>
      make_model;
};

int run_program(int argc, char** argv, const ProgramSpec& spec);

// The grid of attention pictures: a row per layer, as many columns as the layer with the most
// heads has (a pruned layer may have fewer). slots lists the maps row by row, each map's index
// or -1 for a blank slot at the end of a shorter row. Throws tg::Error for no maps.
struct AttentionGridLayout {
  int64_t columns = 1;
  std::vector<int64_t> slots;
};
AttentionGridLayout attention_grid_layout(const std::vector<AttentionMap>& maps);

// Draws the attention of the model's prediction for word into <out_dir>/attention_<word>.png:
// one heatmap (phonemes down, letters across), or a grid of them, a row per layer.
void save_attention_pictures(Seq2SeqModel& model, const G2PData& data, const std::string& word,
                             int64_t beam, const std::string& out_dir);

}  // namespace g2p
