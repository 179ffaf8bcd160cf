// The G2P examples: scoring, decoding, padding, learning, checkpoints and input errors.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "examples/g2p_common/cli.h"
#include "examples/g2p_common/decoding.h"
#include "examples/g2p_common/g2p_metrics.h"
#include "examples/g2p_common/seq_batches.h"
#include "examples/g2p_common/training.h"
#include "examples/g2p_lstm/g2p_lstm.h"
#include "examples/g2p_transformer/g2p_transformer.h"
#include "framework/backend/backend.h"
#include "framework/backend/host_copies.h"
#include "framework/serialize.h"
#include "layers/loss.h"
#include "layers/quantize.h"
#include "optim/optim.h"

namespace {

using g2p::Phonemes;
using tg::data::PronouncingEntry;

Phonemes phonemes(const std::string& text) {
  Phonemes result;
  std::string p;
  for (char c : text + " ") {
    if (c == ' ') {
      if (!p.empty()) result.push_back(p);
      p.clear();
    } else {
      p += c;
    }
  }
  return result;
}

// A small dictionary made by hand, so the model tests need no file.
std::vector<PronouncingEntry> toy_entries() {
  return {{"cat", {phonemes("K AE T")}},
          {"dog", {phonemes("D AO G")}},
          {"tomato", {phonemes("T AH M EY T OW"), phonemes("T AH M AA T OW")}},
          {"a", {phonemes("AH"), phonemes("EY")}},
          {"go", {phonemes("G OW")}},
          {"toad", {phonemes("T OW D")}},
          {"face", {phonemes("F EY S")}}};
}

g2p::G2PData toy_data() {
  g2p::G2PData data;
  data.train = toy_entries();
  data.dev = data.train;
  data.test = data.train;
  data.letters = tg::data::letter_vocabulary(data.train);
  data.phonemes = tg::data::phoneme_vocabulary(data.train);
  return data;
}

g2p::ModelConfig small_config() {
  g2p::ModelConfig config;
  config.embed_dim = 16;
  config.hidden = 24;
  config.encoder_layers = 2;
  config.decoder_layers = 2;
  config.heads = 2;
  config.ff_hidden = 32;
  config.dropout = 0.1f;
  return config;
}

std::unique_ptr<g2p::Seq2SeqModel> make_model(const std::string& kind,
                                              const g2p::ModelConfig& config,
                                              const g2p::G2PData& data, tg::Generator& gen) {
  if (kind == "transformer") {
    return std::make_unique<g2p::TransformerG2P>(config, data.letters.size(), data.phonemes.size(),
                                                 gen);
  }
  return std::make_unique<g2p::LSTMG2P>(config, data.letters.size(), data.phonemes.size(), gen);
}

std::vector<float> logits_row(const tg::Tensor& logits, int64_t row, int64_t steps) {
  const int64_t vocabulary = logits.size(2);
  const std::vector<float> all = logits.to_vector<float>();
  const auto first = all.begin() + row * logits.size(1) * vocabulary;
  return std::vector<float>(first, first + steps * vocabulary);
}

}  // namespace

TEST_CASE("edit distance counts insertions, deletions and substitutions") {
  CHECK(g2p::edit_distance(phonemes("K AE T"), phonemes("K AE T")) == 0);
  CHECK(g2p::edit_distance(phonemes("K AE T"), phonemes("K AA T")) == 1);
  CHECK(g2p::edit_distance(phonemes("K AE T"), {}) == 3);
  CHECK(g2p::edit_distance({}, phonemes("K AE T")) == 3);
  CHECK(g2p::edit_distance(phonemes("A B"), phonemes("B A")) == 2);
  // kitten -> sitting: k->s, e->i, insert g.
  CHECK(g2p::edit_distance(phonemes("k i t t e n"), phonemes("s i t t i n g")) == 3);
  CHECK(g2p::edit_distance(phonemes("T AH M EY T OW"), phonemes("T AH M AA T OW")) == 1);
}

TEST_CASE("WER and PER use the closest reference and pool phonemes") {
  g2p::ScoreTotals totals;
  // Matches the second pronunciation exactly: right, 0 edits over its 6 phonemes.
  totals.add(phonemes("T AH M AA T OW"), {phonemes("T AH M EY T OW"), phonemes("T AH M AA T OW")});
  // One substitution from "K AE T" (3 phonemes).
  totals.add(phonemes("K AA T"), {phonemes("K AE T")});
  // Two edits from either reference: the shorter one (1 phoneme) counts.
  totals.add(phonemes("AH EY IY"), {phonemes("AH"), phonemes("EY IY AH")});
  CHECK(totals.words == 3);
  CHECK(totals.wrong_words == 2);
  CHECK(totals.phoneme_edits == 0 + 1 + 2);
  CHECK(totals.reference_phonemes == 6 + 3 + 1);
  CHECK(totals.wer() == doctest::Approx(2.0 / 3.0));
  CHECK(totals.per() == doctest::Approx(3.0 / 10.0));
  CHECK_THROWS_WITH_AS(totals.add(phonemes("K"), {}), doctest::Contains("at least one reference"),
                       tg::Error);
}

TEST_CASE("padding does not change the outputs at real positions") {
  for (const std::string kind : {"lstm", "transformer"}) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    tg::Generator gen(3);
    auto model = make_model(kind, small_config(), data, gen);
    model->eval();
    tg::NoGradGuard no_grad;
    const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
    const tg::data::Seq2SeqBatch batch = tg::data::make_seq2seq_batch(pairs, {0, 2, 4, 5});
    const tg::Tensor logits =
        model->forward(batch.source, batch.source_lengths, batch.target_in, batch.target_lengths);
    const std::vector<int32_t> target_lengths = batch.target_lengths.to_vector<int32_t>();
    for (int64_t row = 0; row < batch.size(); ++row) {
      const tg::data::Seq2SeqBatch alone =
          tg::data::make_seq2seq_batch(pairs, {batch.entry_indices[row]});
      const tg::Tensor single =
          model->forward(alone.source, alone.source_lengths, alone.target_in, alone.target_lengths);
      const std::vector<float> padded = logits_row(logits, row, target_lengths[row]);
      const std::vector<float> unpadded = logits_row(single, 0, target_lengths[row]);
      REQUIRE(padded.size() == unpadded.size());
      float worst = 0;
      for (size_t i = 0; i < padded.size(); ++i)
        worst = std::max(worst, std::abs(padded[i] - unpadded[i]));
      CHECK(worst < 1e-4f);
    }
    // Decoding a word in a padded batch gives what decoding it alone gives.
    const auto together = g2p::greedy_decode(*model, batch.source, batch.source_lengths);
    const tg::data::Seq2SeqBatch first =
        tg::data::make_seq2seq_batch(pairs, {batch.entry_indices[0]});
    CHECK(g2p::greedy_decode(*model, first.source, first.source_lengths)[0] == together[0]);
  }
}

TEST_CASE("beam width 1 equals greedy, and a wider beam never finds a less likely answer") {
  for (const std::string kind : {"lstm", "transformer"}) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    tg::Generator gen(5);
    auto model = make_model(kind, small_config(), data, gen);
    model->eval();
    const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
    const tg::data::Seq2SeqBatch batch = tg::data::make_seq2seq_batch(pairs, {0, 1, 2, 3, 4, 5, 6});
    const auto greedy = g2p::greedy_decode(*model, batch.source, batch.source_lengths);
    CHECK(g2p::beam_search(*model, batch.source, batch.source_lengths, 1) == greedy);
    // Untrained, the model rambles: the length limit 2 * letters + 5 must stop it.
    const std::vector<int32_t> lengths = batch.source_lengths.to_vector<int32_t>();
    for (size_t row = 0; row < greedy.size(); ++row) {
      CHECK(static_cast<int64_t>(greedy[row].size()) <= g2p::max_output_length(lengths[row]));
    }

    // log p(sequence + <eos>) under teacher forcing.
    auto log_probability = [&](int64_t row, const std::vector<int32_t>& symbols) {
      tg::NoGradGuard no_grad;
      std::vector<int32_t> target_in{tg::data::kBosId}, target_out = symbols;
      target_in.insert(target_in.end(), symbols.begin(), symbols.end());
      target_out.push_back(tg::data::kEosId);
      const auto t = static_cast<int64_t>(target_in.size());
      const tg::data::Seq2SeqBatch one = tg::data::make_seq2seq_batch(pairs, {row});
      const tg::Tensor logits =
          model->forward(one.source, one.source_lengths, tg::from_vector(target_in, {1, t}),
                         tg::from_vector(std::vector<int32_t>{int32_t(t)}, {1}));
      const std::vector<float> lp = tg::log_softmax(logits, 2).to_vector<float>();
      const int64_t vocabulary = logits.size(2);
      double total = 0;
      for (int64_t i = 0; i < t; ++i) total += lp[i * vocabulary + target_out[i]];
      return total;
    };
    const auto wide = g2p::beam_search(*model, batch.source, batch.source_lengths, 4);
    for (int64_t row = 0; row < 7; ++row) {
      // Only comparable when greedy ended by <eos>, not by the length limit.
      if (static_cast<int64_t>(greedy[row].size()) < g2p::max_output_length(lengths[row])) {
        CHECK(log_probability(row, wide[row]) >= log_probability(row, greedy[row]) - 1e-4);
      }
    }
  }
}

TEST_CASE("the LSTM learns 64 words by heart") {
  // Tiny batches: one thread is fastest. (With 2 OpenMP threads on a busy 2-core machine this
  // test took ~80 s of CPU instead of ~2 s: see the G2P report on thread oversubscription.)
  const int threads = tg::num_threads();
  tg::set_num_threads(1);
  std::vector<PronouncingEntry> entries;
  for (const PronouncingEntry& e :
       tg::data::read_cmudict(tg::data::kCmudictPath, {.limit = 3000})) {
    if (e.word.size() >= 3 && e.word.size() <= 5 &&
        e.word.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos) {
      entries.push_back(e);
    }
    if (entries.size() == 64) break;
  }
  REQUIRE(entries.size() == 64);
  g2p::G2PData data;
  data.train = entries;
  data.letters = tg::data::letter_vocabulary(entries);
  data.phonemes = tg::data::phoneme_vocabulary(entries);
  g2p::ModelConfig config;
  config.embed_dim = 32;
  config.hidden = 64;
  config.encoder_layers = 1;
  config.dropout = 0.0f;
  tg::Generator gen(7);
  g2p::LSTMG2P model(config, data.letters.size(), data.phonemes.size(), gen);
  g2p::TrainOptions options;
  options.epochs = 60;
  options.batch_size = 16;
  options.lr = 1e-2;
  options.schedule = "constant";
  options.dev_words = 0;
  options.quiet = true;
  const g2p::TrainResult result = g2p::train_model(model, config, data, options);
  CHECK(result.steps == 60 * 4);
  CHECK(result.history.back().train_loss < 0.1);
  const g2p::ScoreTotals score = g2p::evaluate(model, data, entries, 1);
  CHECK(score.wer() == 0.0);
  CHECK(score.per() == 0.0);
  tg::set_num_threads(threads);
}

TEST_CASE("a saved model predicts what the trained one predicts") {
  for (const std::string kind : {"lstm", "transformer"}) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    tg::Generator gen(11);
    auto model = make_model(kind, small_config(), data, gen);
    const std::string path =
        (std::filesystem::temp_directory_path() / ("test_g2p_" + kind + ".tg")).string();
    g2p::save_model(path, *model, small_config(), data);

    const tg::Checkpoint checkpoint = tg::load_checkpoint(path);
    const g2p::LoadedHeader header = g2p::read_header(checkpoint);
    CHECK(header.letters == data.letters);
    CHECK(header.phonemes == data.phonemes);
    CHECK(header.config.hidden == small_config().hidden);
    tg::Generator other(99);
    auto loaded = make_model(kind, header.config, data, other);
    g2p::load_weights(checkpoint, *loaded);
    const std::vector<std::string> words{"cat", "tomato", "toad"};
    CHECK(g2p::predict_words(*loaded, data, words, 1) ==
          g2p::predict_words(*model, data, words, 1));
    CHECK(g2p::predict_words(*loaded, data, words, 3) ==
          g2p::predict_words(*model, data, words, 3));
    std::filesystem::remove(path);
  }
}

TEST_CASE("a post-norm Transformer is saved and loaded as post-norm") {
  const g2p::G2PData data = toy_data();
  g2p::ModelConfig config = small_config();
  config.norm = "post";
  tg::Generator gen(12);
  auto model = make_model("transformer", config, data, gen);
  // Post-norm normalises inside each layer, so the stacks have no final LayerNorm of their own.
  for (const auto& [name, parameter] : model->named_parameters()) {
    CHECK(name.find("encoder.norm.") == std::string::npos);
  }
  const std::string path =
      (std::filesystem::temp_directory_path() / "test_g2p_post_norm.tg").string();
  g2p::save_model(path, *model, config, data);

  const tg::Checkpoint checkpoint = tg::load_checkpoint(path);
  const g2p::ModelConfig loaded_config = g2p::read_header(checkpoint).config;
  CHECK(loaded_config.norm == "post");
  tg::Generator other(99);
  auto loaded = make_model("transformer", loaded_config, data, other);
  g2p::load_weights(checkpoint, *loaded);
  const std::vector<std::string> words{"cat", "tomato", "toad"};
  CHECK(g2p::predict_words(*loaded, data, words, 2) == g2p::predict_words(*model, data, words, 2));
  std::filesystem::remove(path);

  config.norm = "sideways";
  CHECK_THROWS_WITH_AS(make_model("transformer", config, data, gen),
                       doctest::Contains("norm must be \"pre\" or \"post\", got \"sideways\""),
                       tg::Error);
}

TEST_CASE("the attention picture has a row per layer and a column per head of the model") {
  auto maps_of_layers = [](const std::vector<int64_t>& layers) {
    std::vector<g2p::AttentionMap> maps;
    for (int64_t layer : layers) maps.push_back({"map", {{1.0f}}, layer});
    return maps;
  };
  const g2p::AttentionGridLayout full = g2p::attention_grid_layout(maps_of_layers({0, 0, 1, 1}));
  CHECK(full.columns == 2);
  CHECK(full.slots == std::vector<int64_t>{0, 1, 2, 3});
  // A pruned second layer with one head: its row ends in two blanks.
  const g2p::AttentionGridLayout pruned = g2p::attention_grid_layout(maps_of_layers({0, 0, 0, 1}));
  CHECK(pruned.columns == 3);
  CHECK(pruned.slots == std::vector<int64_t>{0, 1, 2, 3, -1, -1});
  CHECK(g2p::attention_grid_layout(maps_of_layers({0})).slots == std::vector<int64_t>{0});
  CHECK_THROWS_WITH_AS(g2p::attention_grid_layout({}), "attention_grid_layout: no attention maps",
                       tg::Error);

  // The columns come from the model (2 heads here), not from the program's --heads (default 4),
  // which a loaded checkpoint does not follow.
  const g2p::G2PData data = toy_data();
  tg::Generator gen(5);
  auto model = make_model("transformer", small_config(), data, gen);
  model->eval();
  const tg::Tensor source = tg::from_vector(std::vector<int32_t>{4, 5, 6}, {1, 3});
  const tg::Tensor target = tg::from_vector(std::vector<int32_t>{tg::data::kBosId, 4}, {1, 2});
  const g2p::AttentionGridLayout layout =
      g2p::attention_grid_layout(model->attention(source, target));
  CHECK(layout.columns == 2);
  CHECK(layout.slots == std::vector<int64_t>{0, 1, 2, 3});
}

TEST_CASE("a checkpoint from before --norm holds a pre-norm Transformer") {
  g2p::ModelConfig config = small_config();
  config.norm = "post";
  tg::Checkpoint current;
  config.save(current);
  tg::Checkpoint older;  // the same keys but config.norm, as written before the flag existed
  for (const auto& [key, value] : current.metadata()) {
    if (key != "config.norm") older.set_string(key, value);
  }
  CHECK(g2p::ModelConfig::load(current).norm == "post");
  CHECK(g2p::ModelConfig::load(older).norm == "pre");
}

TEST_CASE("with --encoder-window W, a letter's encoding ignores letters beyond W per layer") {
  const g2p::G2PData data = toy_data();
  // Changing the last of five letters changes the encodings within reach of it: +-W per layer.
  // Returns which of the five positions changed.
  auto positions_changed = [&](int64_t layers, int64_t window) {
    g2p::ModelConfig config = small_config();
    config.encoder_layers = layers;
    config.encoder_window = window;
    tg::Generator gen(21);
    g2p::TransformerG2P model(config, data.letters.size(), data.phonemes.size(), gen);
    model.eval();
    const tg::Tensor lengths = tg::from_vector(std::vector<int32_t>{5}, {1});
    const std::vector<float> before =
        model.encode(tg::from_vector(std::vector<int32_t>{4, 5, 6, 7, 8}, {1, 5}), lengths)
            .to_vector<float>();
    const std::vector<float> after =
        model.encode(tg::from_vector(std::vector<int32_t>{4, 5, 6, 7, 9}, {1, 5}), lengths)
            .to_vector<float>();
    std::vector<int> changed;
    const int64_t d = config.embed_dim;
    for (int position = 0; position < 5; ++position) {
      bool differs = false;
      for (int64_t f = 0; f < d; ++f)
        differs = differs || before[position * d + f] != after[position * d + f];
      if (differs) changed.push_back(position);
    }
    return changed;
  };
  CHECK(positions_changed(1, 1) == std::vector<int>{3, 4});
  CHECK(positions_changed(2, 1) == std::vector<int>{2, 3, 4});
  CHECK(positions_changed(1, 2) == std::vector<int>{2, 3, 4});
  CHECK(positions_changed(1, 0) == std::vector<int>{0, 1, 2, 3, 4});  // 0: every letter

  g2p::ModelConfig config = small_config();
  config.encoder_window = -1;
  tg::Generator gen(3);
  CHECK_THROWS_WITH_AS(make_model("transformer", config, data, gen),
                       doctest::Contains("encoder_window must be >= 0 (0: every letter), got -1"),
                       tg::Error);
}

TEST_CASE("the encoder window is saved, and a checkpoint from before it attends to every letter") {
  g2p::ModelConfig config = small_config();
  config.encoder_window = 3;
  tg::Checkpoint current;
  config.save(current);
  tg::Checkpoint older;  // the same keys but config.encoder_window, as written before the flag
  for (const auto& [key, value] : current.metadata()) {
    if (key != "config.encoder_window") older.set_string(key, value);
  }
  CHECK(g2p::ModelConfig::load(current).encoder_window == 3);
  CHECK(g2p::ModelConfig::load(older).encoder_window == 0);
}

TEST_CASE("an unknown character is named with its word") {
  const g2p::G2PData data = toy_data();
  CHECK(g2p::encode_word("CAT", data.letters) == g2p::encode_word("cat", data.letters));
  CHECK_THROWS_WITH_AS(g2p::encode_word("café", data.letters),
                       doctest::Contains("unknown character 'é' in 'café'"), tg::Error);
  CHECK_THROWS_WITH_AS(g2p::encode_word("", data.letters), doctest::Contains("empty word"),
                       tg::Error);
  tg::Generator gen(1);
  auto model = make_model("lstm", small_config(), data, gen);
  CHECK_THROWS_WITH_AS(g2p::predict_words(*model, data, {"cat", "dog?"}, 1),
                       doctest::Contains("unknown character '?' in 'dog?'"), tg::Error);
}

// Training options for a few quiet steps on toy_data(): batches of 4, no dev scoring.
static g2p::TrainOptions toy_training(int64_t epochs) {
  g2p::TrainOptions options;
  options.epochs = epochs;
  options.batch_size = 4;
  options.dev_words = 0;
  options.quiet = true;
  return options;
}

TEST_CASE("a run shorter than --warmup warms up over its first fifth instead of failing") {
  // 7 words, batch 4, 3 epochs: 6 steps, fewer than the default 500 warmup steps. This ended in
  // "WarmupDecayLR: total_steps must exceed warmup_steps, got 6 <= 500".
  const g2p::G2PData data = toy_data();
  const g2p::ModelConfig config = small_config();
  tg::Generator gen(3);
  auto model = make_model("lstm", config, data, gen);
  const g2p::TrainOptions options = toy_training(3);
  REQUIRE(options.warmup_steps == 500);
  const g2p::TrainResult result = g2p::train_model(*model, config, data, options);
  CHECK(result.steps == 6);
  CHECK(std::isfinite(result.history.back().train_loss));
}

// With --dev-words 0 nothing was measured on dev: the files must not show a 0% error.
TEST_CASE("curves without dev scoring leave the dev cells empty and draw no error rates") {
  const g2p::G2PData data = toy_data();
  const g2p::ModelConfig config = small_config();
  for (const int64_t dev_words : {0, 2}) {
    CAPTURE(dev_words);
    g2p::G2PData with_dev = data;
    with_dev.dev = data.train;
    tg::Generator gen(3);
    auto model = make_model("lstm", config, with_dev, gen);
    g2p::TrainOptions options = toy_training(1);
    options.dev_words = dev_words;
    options.out_dir =
        (std::filesystem::temp_directory_path() / ("test_g2p_curves_" + std::to_string(dev_words)))
            .string();
    std::filesystem::remove_all(options.out_dir);
    g2p::train_model(*model, config, with_dev, options);
    std::ifstream csv(options.out_dir + "/g2p_metrics.csv");
    std::string header, row;
    std::getline(csv, header);
    std::getline(csv, row);
    CHECK(header == "epoch,train_loss,dev_loss,dev_wer,dev_per,seconds");
    const bool empty_cells = row.find(",,,,") != std::string::npos;
    CHECK(empty_cells == (dev_words == 0));
    CHECK(std::filesystem::exists(options.out_dir + "/error_rates.png") == (dev_words > 0));
    CHECK(std::filesystem::exists(options.out_dir + "/loss.png"));
    std::filesystem::remove_all(options.out_dir);
  }
}

TEST_CASE("a dictionary with no entries, or too few for a training word, names the flag") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tapegrad_g2p_small_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string empty = (dir / "empty.dict").string();
  std::ofstream(empty) << ";;; only a comment\n";
  const std::string expected = "--data: " + empty + " has no dictionary entries";
  CHECK_THROWS_WITH_AS(g2p::load_g2p_data(empty), doctest::Contains(expected.c_str()), tg::Error);
  // One word lands in train, dev or test by its hash; find one that does not train.
  const std::string one = (dir / "one.dict").string();
  bool found_one_outside_train = false;
  for (int i = 0; i < 26 * 26 && !found_one_outside_train; ++i) {
    const std::string word{static_cast<char>('a' + i / 26), static_cast<char>('a' + i % 26)};
    std::ofstream(one) << word << " K AE T\n";
    try {
      (void)g2p::load_g2p_data(one, 1);
    } catch (const tg::Error& error) {
      CHECK(std::string(error.what()).find("--limit: 1 words leave no training words") !=
            std::string::npos);
      found_one_outside_train = true;
    }
  }
  CHECK(found_one_outside_train);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a loss that turns NaN stops G2P training and names the step") {
  const g2p::G2PData data = toy_data();
  const g2p::ModelConfig config = small_config();
  tg::Generator gen(4);
  auto model = make_model("transformer", config, data, gen);
  g2p::TrainOptions options = toy_training(2);
  options.lr = 1e30;
  options.schedule = "constant";
  options.clip_norm = 1e30;
  CHECK_THROWS_WITH_AS(g2p::train_model(*model, config, data, options),
                       doctest::Contains("; training stopped (learning rate 1e+30: lower --lr"),
                       tg::Error);
}

namespace {

// One training step of a G2P model as train_model runs it, the batch already on the model's
// device: forward, loss, backward, clipping, AdamW. Returns the host copies each part made
// (framework/backend/host_copies.h): {forward + loss + backward + optimizer, clip_grad_norm}.
std::pair<int64_t, int64_t> host_copies_of_a_step(g2p::Seq2SeqModel& model,
                                                  const tg::data::Seq2SeqBatch& batch,
                                                  tg::Optimizer& optimizer) {
  const int64_t start = tg::host_copy_count();
  const tg::Tensor logits =
      model.forward(batch.source, batch.source_lengths, batch.target_in, batch.target_lengths);
  const tg::Tensor loss = tg::sequence_cross_entropy(logits, batch.target_out, tg::data::kPadId);
  optimizer.zero_grad();
  loss.backward();
  const int64_t before_clip = tg::host_copy_count();
  tg::clip_grad_norm(model.parameters(), 1.0);
  const int64_t after_clip = tg::host_copy_count();
  optimizer.step();
  const int64_t end = tg::host_copy_count();
  return {(before_clip - start) + (end - after_clip), after_clip - before_clip};
}

}  // namespace

TEST_CASE("a training step copies nothing to the host") {
  // On the CPU the count is of copy_to_host calls: those a GPU would make real copies (each a
  // wait for the device). Ids, targets and lengths are checked where they live instead.
  for (const std::string kind : {"lstm", "transformer"}) {
    CAPTURE(kind);
    const g2p::G2PData data = toy_data();
    tg::Generator gen(5);
    auto model = make_model(kind, small_config(), data, gen);
    tg::AdamW optimizer(model->parameters(), {});
    const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
    const tg::data::Seq2SeqBatch batch = tg::data::make_seq2seq_batch(pairs, {0, 2, 4, 5});
    host_copies_of_a_step(*model, batch, optimizer);  // warm: first-step work is not counted
    const auto [step, clip] = host_copies_of_a_step(*model, batch, optimizer);
    MESSAGE(kind << ": host copies per training step " << step << ", in clip_grad_norm " << clip);
    CHECK(step == 0);
    CHECK(clip == 0);  // on the CPU the norm is summed where the gradients are
  }
}

TEST_CASE("an int8 Transformer checkpoint loads through load_weights and decodes as saved") {
  const g2p::G2PData data = toy_data();
  tg::Generator gen(12);
  auto model = make_model("transformer", small_config(), data, gen);
  model->eval();
  const std::vector<std::string> words{"cat", "tomato", "toad", "face"};
  CHECK(tg::quantize_linears(*model, tg::Int8Activations::Dynamic) > 0);
  const std::string path = (std::filesystem::temp_directory_path() / "test_g2p_int8.tg").string();
  g2p::save_model(path, *model, small_config(), data);
  const tg::Checkpoint checkpoint = tg::load_checkpoint(path);
  tg::Generator other(99);
  auto loaded = make_model("transformer", g2p::read_header(checkpoint).config, data, other);
  g2p::load_weights(checkpoint, *loaded);  // quantizes the fresh model as the checkpoint says
  CHECK(tg::quantization_of(*loaded) == tg::Int8Activations::Dynamic);
  CHECK(g2p::predict_words(*loaded, data, words, 3) == g2p::predict_words(*model, data, words, 3));
  std::filesystem::remove(path);
}
