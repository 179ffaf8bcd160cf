#include "examples/g2p_common/distillation.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "examples/g2p_common/model_kinds.h"
#include "framework/serialize.h"
#include "framework/tapegrad.h"

namespace g2p {

using tg::data::Seq2SeqBatch;

namespace {

// Where two vocabularies part: "the teacher has 70 symbols, the data 72; the first to differ
// is id 40, 'UH1' in the teacher and 'UW0' in the data".
std::string first_difference(const tg::data::Vocabulary& teacher,
                             const tg::data::Vocabulary& data) {
  const auto& a = teacher.symbols();
  const auto& b = data.symbols();
  size_t id = 0;
  while (id < a.size() && id < b.size() && a[id] == b[id]) ++id;
  auto at = [id](const std::vector<std::string>& symbols) {
    return id < symbols.size() ? "'" + symbols[id] + "'" : std::string("nothing");
  };
  return "the teacher has " + std::to_string(a.size()) + " symbols, the data " +
         std::to_string(b.size()) + "; the first to differ is id " + std::to_string(id) + ", " +
         at(a) + " in the teacher and " + at(b) + " in the data";
}

}  // namespace

std::vector<Teacher> load_teachers(const std::vector<std::string>& paths, const G2PData& data,
                                   tg::Device device, const std::string& who) {
  std::vector<Teacher> teachers;
  for (const std::string& path : paths) {
    tg::Checkpoint checkpoint;
    LoadedHeader header;
    try {
      checkpoint = tg::load_checkpoint(path);
      header = read_header(checkpoint);
    } catch (const tg::Error& error) {  // the reader's message, said to be about a teacher
      tg::fail(who, " ", path, ": ", error.what());
    }
    tg::check(header.phonemes == data.phonemes, who, " ", path,
              ": the teacher's phonemes differ from the training data's (",
              first_difference(header.phonemes, data.phonemes),
              "): a teacher must score the student's classes, symbol for symbol");
    tg::check(header.letters == data.letters, who, " ", path,
              ": the teacher's letters differ from the training data's (",
              first_difference(header.letters, data.letters), ")");
    tg::check(header.split_seed == data.split_seed, who, " ", path,
              ": the teacher was trained with --split-seed ", header.split_seed, ", not ",
              data.split_seed, ": it has seen the student's dev and test words");
    Teacher teacher{path, "", nullptr};
    teacher.model = load_any_model(checkpoint, data.letters.size(), data.phonemes.size(),
                                   who + " " + path, &teacher.kind);
    teacher.model->to(device);
    teacher.model->eval();
    teachers.push_back(std::move(teacher));
  }
  return teachers;
}

void print_distillation(const std::vector<Teacher>& teachers,
                        const DistillationSettings& settings) {
  for (const Teacher& t : teachers)
    std::printf("teacher %s: %s, %lld parameters\n", t.path.c_str(), t.kind.c_str(),
                static_cast<long long>(t.model->parameter_count()));
  std::printf("distilling: T %g, alpha %g (soft targets), %g (dictionary)\n", settings.temperature,
              settings.alpha, 1 - settings.alpha);
}

tg::SoftTargets teachers_soft_targets(std::vector<Teacher>& teachers, const Seq2SeqBatch& batch,
                                      float temperature) {
  tg::NoGradGuard constant;
  std::vector<tg::Tensor> logits;
  for (Teacher& teacher : teachers) {
    logits.push_back(teacher.model->forward(batch.source, batch.source_lengths, batch.target_in,
                                            batch.target_lengths));
  }
  return tg::soft_targets(logits, temperature);
}

SoftTargetTable precompute_soft_targets(std::vector<Teacher>& teachers, const G2PData& data,
                                        float temperature) {
  tg::check(!teachers.empty(), "precompute_soft_targets: no teacher given");
  const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
  constexpr int64_t kBatch = 256;  // words per teacher forward pass
  const tg::Device device = teachers.front().model->device();
  SoftTargetTable table;
  table.temperature = temperature;
  table.rows.resize(pairs.size());
  for (const Seq2SeqBatch& cpu_batch : tg::data::bucketed_batches(pairs, kBatch, false, 0, 0)) {
    const tg::Tensor probabilities =
        teachers_soft_targets(teachers, cpu_batch.to(device), temperature).probabilities;
    const int64_t steps = probabilities.size(1);
    table.classes = probabilities.size(2);
    const std::vector<float> values = probabilities.to_vector<float>();
    const std::vector<int32_t> lengths = cpu_batch.target_lengths.to_vector<int32_t>();
    for (int64_t b = 0; b < cpu_batch.size(); ++b) {  // the real positions of row b only
      const float* first = values.data() + b * steps * table.classes;
      table.rows[static_cast<size_t>(cpu_batch.entry_indices[static_cast<size_t>(b)])].assign(
          first, first + lengths[static_cast<size_t>(b)] * table.classes);
    }
  }
  return table;
}

tg::SoftTargets soft_targets_of_batch(const SoftTargetTable& table, const Seq2SeqBatch& batch,
                                      tg::Device device) {
  const int64_t rows = batch.size(), steps = batch.target_out.size(1), classes = table.classes;
  const int64_t row_size = steps * classes;
  std::vector<float> values(static_cast<size_t>(rows * row_size),
                            1.0f / static_cast<float>(classes));
  for (int64_t b = 0; b < rows; ++b) {
    const int64_t pair = batch.entry_indices[static_cast<size_t>(b)];
    tg::check(pair >= 0 && pair < static_cast<int64_t>(table.rows.size()) &&
                  static_cast<int64_t>(table.rows[static_cast<size_t>(pair)].size()) <= row_size,
              "distillation: batch row ", b, " is pair ", pair, ", which the soft-target table (",
              table.rows.size(), " pairs) does not hold with at most ", steps,
              " steps: the table was made from other pairs than the batches");
    const std::vector<float>& mine = table.rows[static_cast<size_t>(pair)];
    std::copy(mine.begin(), mine.end(), values.begin() + b * row_size);
  }
  return {tg::from_vector(values, {rows, steps, classes}).to(device), table.temperature};
}

std::function<tg::Tensor(const Seq2SeqBatch&, const tg::Tensor&)> distillation_batch_loss(
    SoftTargetTable table, float alpha, float label_smoothing) {
  const tg::DistillationOptions options{
      .alpha = alpha, .ignore_index = tg::data::kPadId, .label_smoothing = label_smoothing};
  // Shared, not copied: std::function copies its target, and the table is large.
  auto shared = std::make_shared<const SoftTargetTable>(std::move(table));
  return [shared, options](const Seq2SeqBatch& batch, const tg::Tensor& logits) {
    return tg::distillation_loss(logits, soft_targets_of_batch(*shared, batch, logits.device()),
                                 batch.target_out, options);
  };
}

double mean_kl_to_teachers(Seq2SeqModel& model, std::vector<Teacher>& teachers, const G2PData& data,
                           const std::vector<tg::data::PronouncingEntry>& entries,
                           float temperature) {
  model.eval();
  tg::NoGradGuard no_grad;
  const auto pairs = tg::data::encode_for_training(entries, data.letters, data.phonemes);
  const tg::Device device = model.device();
  double total = 0, tokens = 0;
  for (const Seq2SeqBatch& cpu_batch : tg::data::bucketed_batches(pairs, 256, false, 0, 0)) {
    const Seq2SeqBatch batch = cpu_batch.to(device);
    const tg::Tensor logits =
        model.forward(batch.source, batch.source_lengths, batch.target_in, batch.target_lengths);
    // With alpha = 1 the loss is T^2 times the mean KL over the batch's real tokens.
    const double kl =
        tg::distillation_loss(logits, teachers_soft_targets(teachers, batch, temperature),
                              batch.target_out, {.alpha = 1, .ignore_index = tg::data::kPadId})
            .item() /
        (temperature * temperature);
    double batch_tokens = 0;
    for (int32_t length : cpu_batch.target_lengths.to_vector<int32_t>()) batch_tokens += length;
    total += kl * batch_tokens;
    tokens += batch_tokens;
  }
  return tokens == 0 ? 0.0 : total / tokens;
}

}  // namespace g2p
