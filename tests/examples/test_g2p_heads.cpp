// g2p_heads' pieces on a tiny untrained G2P Transformer: every head measured and ranked, the
// ranked heads pruned (the pruned model's logits equal the gated model's), the pruned model saved
// and read back as g2p_transformer --evaluate reads it, the heatmaps, the curve's CSV and PNGs;
// a pruned model trained on (g2p_heads' fine-tune): its checkpoint evaluated and resumed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "examples/g2p_heads/head_study.h"
#include "examples/g2p_transformer/g2p_transformer.h"
#include "framework/serialize.h"
#include "layers/layers.h"

namespace {

using tg::Tensor;

g2p::G2PData toy_data() {
  g2p::G2PData data;
  data.train = {{"cat", {{"K", "AE", "T"}}},
                {"knight", {{"N", "AY", "T"}}},
                {"toad", {{"T", "OW", "D"}}},
                {"face", {{"F", "EY", "S"}}},
                {"a", {{"AH"}}},
                {"tomato", {{"T", "AH", "M", "EY", "T", "OW"}}}};
  data.letters = tg::data::letter_vocabulary(data.train);
  data.phonemes = tg::data::phoneme_vocabulary(data.train);
  return data;
}

g2p::ModelConfig tiny_config() {
  g2p::ModelConfig config;
  config.embed_dim = 8;
  config.encoder_layers = 1;
  config.decoder_layers = 2;
  config.heads = 4;
  config.ff_hidden = 16;
  config.dropout = 0.0f;
  return config;
}

tg::data::Seq2SeqBatch all_words(const g2p::G2PData& data) {
  const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
  return tg::data::bucketed_batches(pairs, 64, false, 0, 0)[0];
}

std::vector<float> logits(g2p::Seq2SeqModel& model, const tg::data::Seq2SeqBatch& b) {
  return model.forward(b.source, b.source_lengths, b.target_in, b.target_lengths)
      .to_vector<float>();
}

}  // namespace

TEST_CASE("g2p_heads measures, ranks and prunes every head, as the gated model computes") {
  const g2p::G2PData data = toy_data();
  tg::Generator gen(70);
  g2p::TransformerG2P model(tiny_config(), data.letters.size(), data.phonemes.size(), gen);
  model.eval();
  const auto stats = g2p::measure_heads(model, data, data.train, 3);
  REQUIRE(stats.size() == 5);  // encoder self; decoder self and cross, twice
  CHECK(stats[0].layer == "encoder.layers.0.self_attn");
  CHECK(stats[4].layer == "decoder.layers.1.cross_attn");
  CHECK(g2p::short_layer_name(stats[0].layer) == "enc 1 self");
  CHECK(g2p::short_layer_name(stats[4].layer) == "dec 2 cross");

  const std::vector<g2p::RankedHead> ranked = g2p::pruning_order(stats);
  REQUIRE(ranked.size() == 20);
  for (size_t i = 1; i < ranked.size(); ++i)
    CHECK(ranked[i - 1].importance <= ranked[i].importance);
  // By raw importance: the first is the smallest raw score of any head.
  double smallest = 1e30;
  for (const tg::HeadStatistics& s : stats)
    for (double raw : s.raw_importance) smallest = std::min(smallest, raw);
  const std::vector<g2p::RankedHead> by_raw = g2p::pruning_order(stats, false);
  REQUIRE(by_raw.size() == 20);
  CHECK(by_raw.front().importance == smallest);
  for (size_t i = 1; i < by_raw.size(); ++i)
    CHECK(by_raw[i - 1].importance <= by_raw[i].importance);

  // The 7 least important heads gated off, then pruned: the same logits.
  const std::vector<g2p::RankedHead> cut(ranked.begin(), ranked.begin() + 7);
  for (const auto& [path, layer] : tg::attention_layers(model)) {
    std::vector<float> gate(4, 1.0f);
    for (const g2p::RankedHead& head : cut)
      if (head.layer == path) gate[head.head] = 0.0f;
    layer->set_head_mask(tg::from_vector(gate, {4}));
  }
  const tg::data::Seq2SeqBatch batch = all_words(data);
  const std::vector<float> gated = logits(model, batch);
  for (const auto& [path, layer] : tg::attention_layers(model)) layer->set_head_mask(Tensor());
  const int64_t before = model.parameter_count();
  const std::string names = g2p::prune_ranked(model, cut);
  CHECK(names.starts_with(g2p::short_layer_name(cut[0].layer) + " " +
                          std::to_string(cut[0].head + 1) + "; "));
  CHECK(model.parameter_count() ==
        before - 7 * (4 * 2 * 8 + 3 * 2));  // a head: 4 blocks 2x8, 3 biases of 2
  const std::vector<float> pruned = logits(model, batch);
  REQUIRE(pruned.size() == gated.size());
  for (size_t i = 0; i < pruned.size(); ++i)
    CHECK(pruned[i] == doctest::Approx(gated[i]).epsilon(1e-5));
  CHECK_THROWS_WITH_AS(g2p::prune_ranked(model, {cut[0]}), doctest::Contains("has no head"),
                       tg::Error);

  // Saved as g2p_transformer saves, read back into a freshly built model: the same logits.
  const std::string dir = std::filesystem::temp_directory_path() / "tapegrad_g2p_heads";
  std::filesystem::create_directories(dir);
  g2p::save_model(dir + "/model.tg", model, tiny_config(), data);
  const tg::Checkpoint checkpoint = tg::load_checkpoint(dir + "/model.tg");
  tg::Generator other(71);
  g2p::TransformerG2P rebuilt(g2p::read_header(checkpoint).config, data.letters.size(),
                              data.phonemes.size(), other);
  rebuilt.eval();
  g2p::load_weights(checkpoint, rebuilt);
  CHECK(rebuilt.parameter_count() == model.parameter_count());
  const std::vector<float> reloaded = logits(rebuilt, batch);
  for (size_t i = 0; i < pruned.size(); ++i)
    CHECK(reloaded[i] == doctest::Approx(pruned[i]).epsilon(1e-6));
  CHECK(g2p::step_milliseconds(rebuilt, batch, 2) > 0);

  // The heatmaps draw pruned layers too (missing heads grey); the curve writes CSV and PNGs.
  const auto after = g2p::measure_heads(model, data, data.train, 3);
  CHECK(g2p::head_heatmap(after, "importance", false).width() > 0);
  CHECK(g2p::head_heatmap(after, "entropy", true).height() > 0);
  g2p::write_pruning_curve(
      dir, {{0, 20, 100, 0.5, 0.2, 3.0, ""}, {10, 20, 60, 0.75, 0.25, 2.0, "enc 1 self 2"}});
  std::ifstream csv(dir + "/pruning.csv");
  std::string header, first, second;
  std::getline(csv, header);
  std::getline(csv, first);
  std::getline(csv, second);
  CHECK(header ==
        "heads_removed,heads_total,fraction_removed,parameters,dev_wer,dev_per,step_ms,"
        "removed_at_this_step");
  CHECK(second == "10,20,0.5,60,0.75,0.25,2,enc 1 self 2");
  CHECK(std::filesystem::file_size(dir + "/pruning_curve.png") > 1000);
  CHECK(std::filesystem::file_size(dir + "/pruning_step_time.png") > 1000);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a pruned model's training checkpoint keeps its heads: --evaluate reads it, --resume "
    "continues it") {
  const int threads = tg::num_threads();
  tg::set_num_threads(1);
  const g2p::G2PData data = toy_data();
  tg::Generator gen(80);
  g2p::TransformerG2P model(tiny_config(), data.letters.size(), data.phonemes.size(), gen);
  const auto layers = tg::attention_layers(model);
  REQUIRE(layers.size() == 5);  // encoder self; decoder self and cross, two layers
  tg::prune_heads(*layers[4].second, {0, 2});
  const int64_t pruned_parameters = model.parameter_count();

  const std::string dir =
      std::filesystem::temp_directory_path() / "tapegrad_g2p_heads_pruned_training";
  std::filesystem::remove_all(dir);
  g2p::TrainOptions options;
  options.epochs = 1;
  options.batch_size = 3;
  options.lr = 1e-3;
  options.schedule = "constant";
  options.dev_words = 0;
  options.quiet = true;
  options.out_dir = dir;
  g2p::train_model(model, tiny_config(), data, options);

  // As --evaluate reads it: a model built from the config, loaded from the epoch checkpoint.
  const tg::Checkpoint checkpoint = tg::load_checkpoint(dir + "/model.tg");
  CHECK(checkpoint.get_string("heads." + layers[4].first) == "1,3");
  tg::Generator other(81);
  g2p::TransformerG2P evaluated(g2p::read_header(checkpoint).config, data.letters.size(),
                                data.phonemes.size(), other);
  g2p::load_weights(checkpoint, evaluated);
  CHECK(evaluated.parameter_count() == pruned_parameters);
  model.eval();
  evaluated.eval();
  const tg::data::Seq2SeqBatch batch = all_words(data);
  const std::vector<float> trained = logits(model, batch), loaded = logits(evaluated, batch);
  REQUIRE(loaded.size() == trained.size());
  for (size_t i = 0; i < trained.size(); ++i) CHECK(loaded[i] == trained[i]);

  // As --resume continues it: a freshly built model takes the pruned shapes and the optimizer's
  // state, and trains its second epoch.
  tg::Generator third(82);
  g2p::TransformerG2P resumed(tiny_config(), data.letters.size(), data.phonemes.size(), third);
  options.epochs = 2;
  options.resume = true;
  const g2p::TrainResult result = g2p::train_model(resumed, tiny_config(), data, options);
  CHECK(result.history.size() == 2);
  CHECK(result.steps == 2);  // 6 words in batches of 3: the second epoch only
  CHECK(resumed.parameter_count() == pruned_parameters);
  std::filesystem::remove_all(dir);
  tg::set_num_threads(threads);
}
