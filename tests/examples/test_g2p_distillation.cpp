// Distillation of the G2P programs (g2p_common/distillation.h): a student trained from a
// teacher's soft targets moves toward that teacher, farther than the same student trained alone;
// the soft targets computed once per word before training are the teachers' on any batch;
// teachers of either architecture are rebuilt from their checkpoints; a teacher that does not fit
// the data is refused with a message that says why.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include "examples/g2p_common/distillation.h"
#include "examples/g2p_common/model_kinds.h"
#include "examples/g2p_lstm/g2p_lstm.h"
#include "examples/g2p_transformer/g2p_transformer.h"
#include "framework/backend/backend.h"
#include "framework/serialize.h"

namespace {

bool have_cmudict() {
  if (std::filesystem::exists(tg::data::kCmudictPath)) return true;
  MESSAGE("skipped: no CMUdict at ", tg::data::kCmudictPath, " (Debian: pocketsphinx-en-us)");
  return false;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

g2p::ModelConfig tiny_transformer(int64_t width) {
  g2p::ModelConfig config;
  config.embed_dim = width;
  config.heads = 2;
  config.encoder_layers = 1;
  config.decoder_layers = 1;
  config.ff_hidden = 2 * width;
  config.dropout = 0.0f;
  return config;
}

// An untrained 8-wide Transformer over the first 300 CMUdict words: what the tests of
// checkpoint files below save, alter and load back. Members initialise in this order.
struct TinySavedModel {
  g2p::G2PData data = g2p::load_g2p_data(tg::data::kCmudictPath, 300);
  g2p::ModelConfig config = tiny_transformer(8);
  tg::Generator gen{4};
  g2p::TransformerG2P model{config, data.letters.size(), data.phonemes.size(), gen};
};

g2p::TrainOptions epochs_of(int64_t epochs) {
  g2p::TrainOptions options;
  options.epochs = epochs;
  options.batch_size = 32;
  options.lr = 3e-3;
  options.warmup_steps = 20;
  options.dev_words = 0;
  options.quiet = true;
  return options;
}

}  // namespace

TEST_CASE("a distilled student comes closer to its teacher than the same student alone") {
  if (!have_cmudict()) return;
  const int threads = tg::num_threads();
  tg::set_num_threads(1);  // small batches: one thread is fastest, and CTest runs two tests
  const g2p::G2PData data = g2p::load_g2p_data(tg::data::kCmudictPath, 2000);
  const g2p::ModelConfig teacher_config = tiny_transformer(32),
                         student_config = tiny_transformer(16);
  tg::Generator teacher_gen(1);
  g2p::TransformerG2P teacher(teacher_config, data.letters.size(), data.phonemes.size(),
                              teacher_gen);
  g2p::train_model(teacher, teacher_config, data, epochs_of(4));
  const std::string path = temp_path("test_g2p_distillation_teacher.tg");
  g2p::save_model(path, teacher, teacher_config, data);
  std::vector<g2p::Teacher> teachers =
      g2p::load_teachers({path}, data, tg::Device::CPU, "--teacher");
  std::filesystem::remove(path);
  REQUIRE(teachers.size() == 1);
  CHECK(teachers[0].kind == "g2p_transformer");

  const float temperature = 2.0f;
  auto kl = [&](g2p::Seq2SeqModel& model) {
    return g2p::mean_kl_to_teachers(model, teachers, data, data.test, temperature);
  };
  // The teacher read back is the teacher: its KL to itself is 0.
  CHECK(kl(teacher) < 1e-5);

  // Two students from the same initial weights, the same batches and steps; one distilled.
  tg::Generator gen_alone(2), gen_distilled(2);
  g2p::TransformerG2P alone(student_config, data.letters.size(), data.phonemes.size(), gen_alone);
  g2p::TransformerG2P distilled(student_config, data.letters.size(), data.phonemes.size(),
                                gen_distilled);
  const double untrained = kl(distilled);
  g2p::train_model(alone, student_config, data, epochs_of(4));
  g2p::TrainOptions distilling = epochs_of(4);
  distilling.batch_loss =
      g2p::distillation_batch_loss(g2p::precompute_soft_targets(teachers, data, temperature),
                                   /*alpha=*/1.0f, /*label_smoothing=*/0.0f);
  g2p::train_model(distilled, student_config, data, distilling);
  const double after_alone = kl(alone), after_distilled = kl(distilled);
  tg::set_num_threads(threads);
  std::printf(
      "KL to the teacher on %zu held-out words: untrained %.3f, alone %.3f, distilled %.3f\n",
      data.test.size(), untrained, after_alone, after_distilled);
  // Measured (one thread, 2026-12-01): untrained 0.596, alone 0.198, distilled 0.162. A batch
  // loss that ignored the teacher would train the same student as alone: ratio 1.
  CHECK(after_distilled < untrained / 2);
  CHECK(after_distilled < 0.9 * after_alone);
}

TEST_CASE("soft targets computed once per word equal the teachers' on any batch") {
  if (!have_cmudict()) return;
  const TinySavedModel saved;
  const std::string path = temp_path("test_g2p_distillation_table.tg");
  g2p::save_model(path, saved.model, saved.config, saved.data);
  std::vector<g2p::Teacher> teachers =
      g2p::load_teachers({path, path}, saved.data, tg::Device::CPU, "--teacher");
  std::filesystem::remove(path);
  const auto pairs =
      tg::data::encode_for_training(saved.data.train, saved.data.letters, saved.data.phonemes);
  const float temperature = 3.0f;
  const g2p::SoftTargetTable table =
      g2p::precompute_soft_targets(teachers, saved.data, temperature);
  REQUIRE(table.rows.size() == pairs.size());
  CHECK(table.classes == static_cast<int64_t>(saved.data.phonemes.size()));
  // A shuffled training batch (other rows, other padding than the table's batches of 256).
  const tg::data::Seq2SeqBatch batch = tg::data::bucketed_batches(pairs, 16, true, 7, 2)[3];
  const tg::SoftTargets looked_up = g2p::soft_targets_of_batch(table, batch, tg::Device::CPU);
  const tg::SoftTargets computed = g2p::teachers_soft_targets(teachers, batch, temperature);
  CHECK(looked_up.temperature == temperature);
  REQUIRE(looked_up.probabilities.shape() == computed.probabilities.shape());
  const std::vector<float> got = looked_up.probabilities.to_vector<float>();
  const std::vector<float> want = computed.probabilities.to_vector<float>();
  const std::vector<int32_t> lengths = batch.target_lengths.to_vector<int32_t>();
  const int64_t steps = batch.target_out.size(1), classes = table.classes;
  for (int64_t b = 0; b < batch.size(); ++b)
    for (int64_t t = 0; t < lengths[static_cast<size_t>(b)]; ++t)
      for (int64_t c = 0; c < classes; ++c) {
        const auto i = static_cast<size_t>((b * steps + t) * classes + c);
        CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
      }
  // A batch of pairs the table was not made from is refused.
  g2p::SoftTargetTable smaller = table;
  smaller.rows.resize(2);
  CHECK_THROWS_WITH_AS(g2p::soft_targets_of_batch(smaller, batch, tg::Device::CPU),
                       doctest::Contains("the table was made from other pairs than the batches"),
                       tg::Error);
}

TEST_CASE("an LSTM teacher is rebuilt from its checkpoint and teaches a Transformer") {
  if (!have_cmudict()) return;
  const g2p::G2PData data = g2p::load_g2p_data(tg::data::kCmudictPath, 300);
  g2p::ModelConfig config;
  config.embed_dim = 8;
  config.hidden = 16;
  config.encoder_layers = 1;
  tg::Generator gen(3);
  g2p::LSTMG2P lstm(config, data.letters.size(), data.phonemes.size(), gen);
  const std::string path = temp_path("test_g2p_distillation_lstm.tg");
  g2p::save_model(path, lstm, config, data);
  std::vector<g2p::Teacher> teachers =
      g2p::load_teachers({path, path}, data, tg::Device::CPU, "--teacher");
  std::filesystem::remove(path);
  REQUIRE(teachers.size() == 2);
  CHECK(teachers[1].kind == "g2p_lstm");
  CHECK(teachers[1].model->parameter_count() == lstm.parameter_count());
  // The rebuilt teacher computes what the saved one computed.
  const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
  const tg::data::Seq2SeqBatch batch = tg::data::make_seq2seq_batch(pairs, {0, 1, 2});
  lstm.eval();
  tg::NoGradGuard no_grad;
  const tg::Tensor original =
      lstm.forward(batch.source, batch.source_lengths, batch.target_in, batch.target_lengths);
  const tg::SoftTargets soft = g2p::teachers_soft_targets(teachers, batch, 1.0f);
  const std::vector<float> want = tg::softmax(original, -1).to_vector<float>();
  const std::vector<float> got = soft.probabilities.to_vector<float>();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

TEST_CASE("a Transformer checkpoint that still saved its position tables is recognised") {
  // Before 2026-12-02 the sinusoid tables (the computed buffers encoder.positions.pe, ...) were
  // saved; such a checkpoint is still a g2p_transformer, with or without them.
  if (!have_cmudict()) return;
  TinySavedModel tiny;
  auto& [data, config, gen, model] = tiny;
  const std::string path = temp_path("test_g2p_distillation_old_tables.tg");
  g2p::save_model(path, model, config, data);
  tg::Checkpoint old_file = tg::load_checkpoint(path);
  const tg::NamedTensors tables = model.named_computed_buffers();
  REQUIRE_FALSE(tables.empty());
  for (const auto& [name, table] : tables) {
    CHECK_FALSE(old_file.has_tensor("model." + name));  // not saved today
    old_file.add_tensor("model." + name, table);
  }
  for (const tg::Checkpoint& file : {tg::load_checkpoint(path), old_file}) {
    std::string kind;
    const auto loaded =
        g2p::load_any_model(file, data.letters.size(), data.phonemes.size(), "test", &kind);
    CHECK(kind == "g2p_transformer");
    CHECK(loaded->parameter_count() == model.parameter_count());
  }
  std::filesystem::remove(path);
}

TEST_CASE("a teacher that does not fit the data is refused, saying why") {
  if (!have_cmudict()) return;
  TinySavedModel tiny;
  auto& [data, config, gen, model] = tiny;
  const std::string path = temp_path("test_g2p_distillation_misfit.tg");

  // Trained on other words: fewer phonemes.
  const g2p::G2PData fewer = g2p::load_g2p_data(tg::data::kCmudictPath, 40);
  REQUIRE(fewer.phonemes.size() < data.phonemes.size());
  g2p::TransformerG2P small(config, fewer.letters.size(), fewer.phonemes.size(), gen);
  g2p::save_model(path, small, config, fewer);
  CHECK_THROWS_WITH_AS(g2p::load_teachers({path}, data, tg::Device::CPU, "--teacher"),
                       doctest::Contains(("--teacher " + path +
                                          ": the teacher's phonemes differ from the training "
                                          "data's (the teacher has ")
                                             .c_str()),
                       tg::Error);

  // Another dev/test split: it has trained on the student's test words.
  g2p::G2PData other_split = data;
  other_split.split_seed = 5;
  g2p::save_model(path, model, config, other_split);
  CHECK_THROWS_WITH_AS(g2p::load_teachers({path}, data, tg::Device::CPU, "--teacher"),
                       doctest::Contains("the teacher was trained with --split-seed 5, not 0: "
                                         "it has seen the student's dev and test words"),
                       tg::Error);

  // A checkpoint whose weights are no G2P model's.
  g2p::save_model(path, model, config, data);
  tg::Checkpoint renamed = tg::load_checkpoint(path);
  tg::Checkpoint odd;
  for (const auto& [name, tensor] : renamed.tensors()) odd.add_tensor(name + "_renamed", tensor);
  for (const auto& [key, value] : renamed.metadata()) odd.set_string(key, value);
  tg::save_checkpoint(odd, path);
  CHECK_THROWS_WITH_AS(g2p::load_teachers({path}, data, tg::Device::CPU, "--teacher"),
                       doctest::Contains("holds no model this program can build (its parameter "
                                         "names match none of g2p_transformer, g2p_lstm)"),
                       tg::Error);
  std::filesystem::remove(path);

  CHECK_THROWS_WITH_AS(
      g2p::load_teachers({path}, data, tg::Device::CPU, "--teacher"),
      doctest::Contains(("--teacher " + path + ": load_checkpoint: cannot open").c_str()),
      tg::Error);
}
