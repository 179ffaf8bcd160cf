// The G2P data, training loop, evaluation and checkpoints shared by g2p_lstm and
// g2p_transformer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "examples/datasets/cmudict.h"
#include "examples/datasets/vocabulary.h"
#include "examples/g2p_common/g2p_metrics.h"
#include "examples/g2p_common/seq2seq.h"
#include "examples/g2p_common/seq_batches.h"

namespace g2p {

inline constexpr uint64_t kDefaultSplitSeed = 0;

struct G2PData {
  tg::data::Vocabulary letters, phonemes;
  std::vector<tg::data::PronouncingEntry> train, dev, test;
  uint64_t split_seed = kDefaultSplitSeed;  // saved in checkpoints: --evaluate must use the same
};

// Reads CMUdict and splits it by word (examples/g2p_common/word_split.h): 5% dev, 10% test, with a
// split seed of its own (default 0), so that every run, whatever its training seed, is tested
// on the same words; another split seed draws other dev and test words, to check that a figure
// does not depend on one lucky split. The vocabularies come from the training words.
// limit > 0 reads only that many words.
G2PData load_g2p_data(const std::string& path, int64_t limit = -1,
                      uint64_t split_seed = kDefaultSplitSeed);

// The letter ids of word. Throws tg::Error "unknown character 'é' in 'café'" for a character the
// model never saw (it would otherwise be read silently as <unk>).
std::vector<int32_t> encode_word(const std::string& word, const tg::data::Vocabulary& letters);

struct TrainOptions {
  int64_t epochs = 10;
  int64_t batch_size = 64;
  double lr = 1e-3;
  double weight_decay = 0.0;        // AdamW's decoupled decay
  std::string schedule = "cosine";  // "cosine": warmup then cosine to 0; "noam"; "constant"
  int64_t warmup_steps = 500;
  float label_smoothing = 0.0f;
  double clip_norm = 1.0;
  uint64_t seed = 0;              // batches order (the model's init is seeded by the program)
  int64_t dev_words = 1000;       // the dev subset scored (greedy) after every epoch; 0: none
  double time_limit_minutes = 0;  // > 0: stop after the batch that passes it
  std::string out_dir;            // model.tg, metrics; empty: no files
  bool resume = false;            // continue from checkpoint_path
  std::string checkpoint_path;    // default <out_dir>/model.tg
  bool quiet = false;             // no progress bar and no per-epoch lines
  // The loss of a training batch from the model's logits [B, T, V]; empty: the token-level
  // cross-entropy with label_smoothing. Distillation sets it (g2p_common/distillation.h).
  std::function<tg::Tensor(const tg::data::Seq2SeqBatch& batch, const tg::Tensor& logits)>
      batch_loss;
};

struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0, dev_loss = 0, dev_wer = 0, dev_per = 0, seconds = 0;
};

struct TrainResult {
  std::vector<EpochRecord> history;
  int64_t steps = 0;
  double seconds = 0;  // this run's training time (not counting a resumed run's earlier part)
  bool stopped_by_time_limit = false;
};

TrainResult train_model(Seq2SeqModel& model, const ModelConfig& config, const G2PData& data,
                        const TrainOptions& options);

// Scores the model (eval mode) on entries, decoding batch_size words at a time.
ScoreTotals evaluate(Seq2SeqModel& model, const G2PData& data,
                     const std::vector<tg::data::PronouncingEntry>& entries, int64_t beam,
                     int64_t batch_size = 256);

// Pronounces each word (eval mode); throws on an unknown character before decoding anything.
std::vector<Phonemes> predict_words(Seq2SeqModel& model, const G2PData& data,
                                    const std::vector<std::string>& words, int64_t beam);

// The model weights, config, vocabularies and history (no optimizer state): what --predict reads.
// train_model writes a fuller checkpoint (with the optimizer) that this reads as well.
void save_model(const std::string& path, const Seq2SeqModel& model, const ModelConfig& config,
                const G2PData& data);
// What a checkpoint needs besides the weights to rebuild its model: config, vocabularies, split.
void write_header(tg::Checkpoint& checkpoint, const ModelConfig& config, const G2PData& data);
// Vocabularies and config of a checkpoint, then the model's weights into model.
struct LoadedHeader {
  ModelConfig config;
  tg::data::Vocabulary letters, phonemes;
  uint64_t split_seed = kDefaultSplitSeed;  // checkpoints older than the flag: the default
};
LoadedHeader read_header(const tg::Checkpoint& checkpoint);
// Throws tg::Error unless the checkpoint at path was trained on data's split: scored on another
// split, its "test" words would include words it trained on.
void check_same_split(const LoadedHeader& header, const G2PData& data, const std::string& path);
void load_weights(const tg::Checkpoint& checkpoint, Seq2SeqModel& model);

// metrics.csv, loss.png and accuracy.png (word accuracy = 1 - WER) via save_training_curves,
// and g2p_metrics.csv and error_rates.png with WER and PER per epoch. Without dev scoring
// (dev_scored false: --dev-words 0) the dev columns are empty, the dev curves absent and
// error_rates.png not written: nothing shows a 0% error that was never measured.
void write_curves(const std::string& out_dir, const std::vector<EpochRecord>& history,
                  bool dev_scored);

}  // namespace g2p
