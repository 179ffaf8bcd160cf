// Distillation training for the G2P programs: `--teacher PATH` (once per teacher) trains the
// model from one trained teacher or from an ensemble of them, with the distillation loss of
// layers/distillation_loss.h. Each teacher may be either architecture (g2p_transformer or
// g2p_lstm checkpoint), with its own size (read from its checkpoint); it runs in eval mode with
// nothing recorded, once per training word before training starts (SoftTargetTable), teacher-
// forced on the same target as the student, so the two are compared token by token (Kim & Rush
// 2016's word-level distillation; Sun et al. 2019 distil G2P this way, from an ensemble).
//
//   soft targets p = (1/K) sum_k softmax(teacher_k logits / T)
//   loss = alpha T^2 KL(p || student at T) + (1 - alpha) CE(student, target, smoothing)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "examples/g2p_common/training.h"
#include "layers/distillation_loss.h"

namespace g2p {

struct DistillationSettings {
  std::vector<std::string> teacher_paths;
  float temperature = 2.0f;
  float alpha = 0.5f;
};

struct Teacher {
  std::string path, kind;  // kind: "g2p_transformer" or "g2p_lstm"
  std::unique_ptr<Seq2SeqModel> model;
};

// Loads every teacher onto device, in eval mode. Throws tg::Error, naming `who` ("--teacher")
// and the file, when it cannot be read, when a teacher's letters or phonemes are not data's (the
// student's classes must be the teacher's, symbol for symbol) or it was trained on another dev/test
// split (it would have seen the student's test words).
std::vector<Teacher> load_teachers(const std::vector<std::string>& paths, const G2PData& data,
                                   tg::Device device, const std::string& who);

// "teacher PATH: g2p_transformer, N parameters" per teacher, then T and alpha.
void print_distillation(const std::vector<Teacher>& teachers, const DistillationSettings& settings);

// The teachers' averaged soft targets for a batch: each teacher's logits at temperature T,
// softened and averaged; nothing recorded.
tg::SoftTargets teachers_soft_targets(std::vector<Teacher>& teachers,
                                      const tg::data::Seq2SeqBatch& batch, float temperature);

// The teachers' soft targets of every training pair, computed once before training. Nothing in
// them changes from epoch to epoch (the teachers are fixed, in eval mode, teacher-forced on the
// dictionary's target), so a distilled step costs what a plain step costs instead of running
// every teacher's forward pass again: in a fixed budget of minutes the student gets as many steps
// as it would alone. Memory: pairs x (target length + 1) x classes floats (about 150 MB for
// CMUdict's 107,000 training words).
struct SoftTargetTable {
  int64_t classes = 0;
  float temperature = 1.0f;
  std::vector<std::vector<float>> rows;  // per pair: [target length + 1, classes], row-major
};
// The table of data.train's pairs, encoded and numbered as train_model encodes them.
SoftTargetTable precompute_soft_targets(std::vector<Teacher>& teachers, const G2PData& data,
                                        float temperature);
// The soft targets [B, T, classes] of a batch of those pairs (its entry_indices), on device;
// padded positions get the uniform distribution, which the loss ignores.
tg::SoftTargets soft_targets_of_batch(const SoftTargetTable& table,
                                      const tg::data::Seq2SeqBatch& batch, tg::Device device);

// TrainOptions::batch_loss for distillation from that table; alpha weighs the soft part
// (layers/distillation_loss.h); the temperature is the table's.
std::function<tg::Tensor(const tg::data::Seq2SeqBatch&, const tg::Tensor&)> distillation_batch_loss(
    SoftTargetTable table, float alpha, float label_smoothing);

// Mean over the real tokens of entries of KL(teachers' p at T || model at T): how far the model
// is from its teachers (eval mode, nothing recorded).
double mean_kl_to_teachers(Seq2SeqModel& model, std::vector<Teacher>& teachers, const G2PData& data,
                           const std::vector<tg::data::PronouncingEntry>& entries,
                           float temperature);

}  // namespace g2p
