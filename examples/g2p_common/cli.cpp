#include "examples/g2p_common/cli.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>

#include "examples/g2p_common/distillation.h"
#include "examples/g2p_common/g2p_distributed.h"
#include "examples/program/program.h"
#include "examples/program/quantized_model.h"
#include "examples/reporting/heatmap.h"
#include "framework/backend/backend.h"
#include "framework/random.h"
#include "framework/serialize.h"

namespace g2p {

namespace {

// Beam search costs grow with the width, and widths past a few tens no longer change a G2P
// result; a width of 10^12 only exhausted memory.
constexpr int64_t kMaxBeam = 64;

struct Flags {
  ModelConfig config;
  TrainOptions train;
  std::string data_path = tg::data::kCmudictPath;
  std::string device = "cpu";
  int64_t threads = 0;  // 0: the engine's default
  int64_t limit = -1;
  uint64_t split_seed = kDefaultSplitSeed;
  int64_t beam = 1;
  bool evaluate_only = false, predict = false;
  bool show_given = false;        // --show with --predict/--evaluate: draw those words too
  bool distributed = false;       // one process of an MPI job (g2p_distributed.h)
  DistillationSettings distill;   // --teacher: train from teachers (g2p_common/distillation.h)
  std::string quantize_path;      // --quantize: where the int8 model goes
  bool int8_activations = false;  // --int8-activations: int8 x int8 products
  std::vector<std::string> predict_words,
      show_words = {"phoenix", "knight", "thought", "xylophone"};
};

// The other model family's flags, refused by name: unknown to CLI11, `--heads 8` would leave
// "8" to be read as a word to pronounce, and the user would be told about words instead.
// Hidden from --help (the empty group).
void refuse_flags(CLI::App& app, const std::vector<std::string>& flags, const std::string& owner) {
  for (const std::string& flag : flags) {
    const CLI::callback_t refuse = [flag, owner](const CLI::results_t&) -> bool {
      throw CLI::ValidationError(flag, "this model has no such setting (a flag of " + owner + ")");
    };
    app.add_option(flag, refuse)->group("")->expected(0, 1);
  }
}

// Every flag, one line each: its type, range and help; CLI11 writes --help from them and refuses
// what does not fit (an unknown flag, "5abc" for a number, a value out of range). A new flag is
// one more line here. The model flags are those of the program's model family only.
void add_flags(CLI::App& app, Flags& f, ModelFamily family) {
  using tg::program::kFiniteNonNegative;
  using tg::program::kFinitePositive;
  using tg::program::kMaxSeed;
  using tg::program::number_between;
  using tg::program::whole_number;
  const CLI::Validator positive = whole_number(1, int64_t{1} << 20);
  app.option_defaults()->always_capture_default();
  app.get_formatter()->column_width(30);
  // clang-format off
  // data and output
  app.add_option("--data", f.data_path, "CMUdict file");
  app.add_option("--limit", f.limit, "read only the first N words")->check(whole_number(1, 1000000000))
      ->default_str("all");
  app.add_option("--split-seed", f.split_seed, "which words are dev and test")
      ->check(whole_number(0, kMaxSeed));
  app.add_option("--out", f.train.out_dir, "model.tg, curves, attention PNGs");
  app.add_option("--checkpoint", f.train.checkpoint_path, "checkpoint to write, resume or read "
                 "(default OUT/model.tg)");
  auto* resume = app.add_flag("--resume", f.train.resume, "continue training from the checkpoint");
  // model
  app.add_option("--embed", f.config.embed_dim, "embedding size / d_model")->check(positive);
  app.add_option("--layers", f.config.encoder_layers, "encoder layers")->check(whole_number(1, 64));
  if (family == ModelFamily::LSTM) {
    app.add_option("--hidden", f.config.hidden, "hidden size, both directions together")
        ->check(positive);
    app.add_option("--attention", f.config.attention, "the decoder's attention over the letters")
        ->check(CLI::IsMember({"additive", "dot"}));
    refuse_flags(app, {"--decoder-layers", "--heads", "--ff", "--norm", "--encoder-window"},
                 "g2p_transformer");
  } else {
    app.add_option("--decoder-layers", f.config.decoder_layers, "decoder layers")
        ->check(whole_number(1, 64));
    app.add_option("--heads", f.config.heads, "attention heads")->check(whole_number(1, 1024));
    app.add_option("--ff", f.config.ff_hidden, "feed-forward width")->check(positive);
    app.add_option("--norm", f.config.norm,
                   "LayerNorm before each sublayer (pre) or after its residual sum (post)")
        ->check(CLI::IsMember({"pre", "post"}));
    app.add_option("--encoder-window", f.config.encoder_window,
                   "each letter attends to the letters within +-W in the encoder (0: all)")
        ->check(whole_number(0, 1000));
    refuse_flags(app, {"--hidden", "--attention"}, "g2p_lstm");
  }
  app.add_option("--dropout", f.config.dropout, "dropout probability")->check(number_between(0, 0.99));
  // training
  app.add_option("--epochs", f.train.epochs, "training epochs")->check(whole_number(1, 1000000));
  app.add_option("--batch", f.train.batch_size, "words per batch")->check(positive);
  app.add_option("--lr", f.train.lr, "peak learning rate of AdamW")->check(kFinitePositive);
  app.add_option("--schedule", f.train.schedule, "cosine (warmup, then cosine to 0), noam or "
                 "constant")->check(CLI::IsMember({"cosine", "noam", "constant"}));
  app.add_option("--warmup", f.train.warmup_steps, "warmup steps (a run shorter than that warms "
                 "up over its first fifth)")->check(whole_number(0, 1000000000));
  app.add_option("--weight-decay", f.train.weight_decay, "AdamW's decoupled weight decay")
      ->check(kFiniteNonNegative);
  app.add_option("--label-smoothing", f.train.label_smoothing, "label smoothing")->check(number_between(0, 0.99));
  app.add_option("--clip", f.train.clip_norm, "gradient norm clip")->check(kFinitePositive);
  app.add_option("--dev-words", f.train.dev_words, "dev words scored after each epoch (0: none)")
      ->check(whole_number(0, 1000000000));
  app.add_option("--time-limit", f.train.time_limit_minutes, "stop training after MIN minutes "
                 "(0: none)")->check(kFiniteNonNegative);
  app.add_option("--seed", f.train.seed, "initial weights, dropout and batch order")
      ->check(whole_number(0, kMaxSeed));
  // running
  app.add_option("--threads", f.threads, "CPU threads (0: all)")->check(whole_number(0, 1024));
  app.add_option("--device", f.device, "where the model runs")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--beam", f.beam, "beam width for test scoring and --predict (1: greedy)")
      ->check(whole_number(1, kMaxBeam));
  app.add_option("--show", f.show_words, "words whose attention is drawn, comma-separated")
      ->delimiter(',')->each([&f](const std::string&) { f.show_given = true; });
  app.add_flag("--distributed", f.distributed, "one process of `mpirun -np R`: --batch N per "
               "process, R x N in all");
  // distillation (g2p_common/distillation.h)
  auto* teacher = app.add_option("--teacher", f.distill.teacher_paths, "distil from this trained "
                                 "g2p_transformer or g2p_lstm checkpoint (repeat: an ensemble)")
      ->allow_extra_args(false);
  app.add_option("--distill-temperature", f.distill.temperature, "temperature T of the soft "
                 "targets")->check(kFinitePositive)->needs(teacher);
  app.add_option("--distill-alpha", f.distill.alpha, "weight of the teachers' soft targets; "
                 "1 - alpha weighs the dictionary's")->check(number_between(0, 1))->needs(teacher);
  auto* evaluate = app.add_flag("--evaluate", f.evaluate_only, "score the test words with the "
                                "model of --checkpoint")->excludes(resume)->excludes(teacher);
  auto* predict = app.add_flag("--predict", f.predict, "pronounce WORDS (none or -: read stdin)")
      ->excludes(resume)->excludes(evaluate)->excludes(teacher);
  app.add_option("words", f.predict_words, "words for --predict")->needs(predict);
  // int8 inference (layers/quantize.h); --predict and --evaluate load int8 checkpoints as well
  auto* quantize = app.add_option("--quantize", f.quantize_path, "with --evaluate or --predict: "
                                  "quantize the model to int8, write it to FILE and use it");
  app.add_flag("--int8-activations", f.int8_activations, "with --quantize: quantize activations "
               "per row too (int8 x int8 products)")->needs(quantize);
  // clang-format on
}

std::string joined(const Phonemes& phonemes) {
  std::string text;
  for (const std::string& p : phonemes) text += (text.empty() ? "" : " ") + p;
  return text;
}

std::string checkpoint_path(const Flags& flags) {
  return flags.train.checkpoint_path.empty() ? flags.train.out_dir + "/model.tg"
                                             : flags.train.checkpoint_path;
}

// Prints "word  PH O N EH M Z" per word; a word that cannot be read is reported and skipped.
int predict(Seq2SeqModel& model, const G2PData& data, const Flags& flags) {
  std::vector<std::string> words = flags.predict_words;
  if (words.empty() || (words.size() == 1 && words[0] == "-")) {
    words.clear();
    std::string word;
    while (std::cin >> word) words.push_back(word);
  }
  int status = 0;
  for (const std::string& word : words) {
    try {
      std::printf("%s\t%s\n", word.c_str(),
                  joined(predict_words(model, data, {word}, flags.beam)[0]).c_str());
    } catch (const tg::Error& error) {
      std::fprintf(stderr, "%s\n", error.what());
      status = 1;
    }
  }
  return status;
}

void print_scores(const char* label, const ScoreTotals& totals, int64_t beam) {
  std::printf("%s (%lld words, beam %lld): WER %.2f%%, PER %.2f%%\n", label,
              static_cast<long long>(totals.words), static_cast<long long>(beam),
              100 * totals.wer(), 100 * totals.per());
  std::fflush(stdout);  // a long evaluation may follow; logs should show this one now
}

// The picture with a line of text above it.
tg::Image with_title(const tg::Image& picture, const std::string& title) {
  constexpr int header = 44;
  tg::Image titled(picture.width(), picture.height() + header, tg::colors::white);
  for (int y = 0; y < picture.height(); ++y) {
    for (int x = 0; x < picture.width(); ++x) titled.set_pixel(x, y + header, picture.pixel(x, y));
  }
  titled.draw_text_centered(picture.width() / 2, 14, title, tg::colors::black, 2);
  return titled;
}

// "soft targets of 107153 training words: 38 s, 150 MB" (the teachers' one pass before training).
void print_soft_target_table(const SoftTargetTable& table,
                             std::chrono::steady_clock::time_point started) {
  double floats = 0;
  for (const std::vector<float>& rows : table.rows) floats += static_cast<double>(rows.size());
  std::printf("soft targets of %zu training words: %.0f s, %.0f MB\n", table.rows.size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              floats * sizeof(float) / 1e6);
  std::fflush(stdout);
}

}  // namespace

AttentionGridLayout attention_grid_layout(const std::vector<AttentionMap>& maps) {
  tg::check(!maps.empty(), "attention_grid_layout: no attention maps");
  AttentionGridLayout layout;
  std::vector<std::vector<int64_t>> by_layer;  // the maps' indices, per layer
  for (size_t k = 0; k < maps.size(); ++k) {
    const int64_t layer = maps[k].layer;
    tg::check(layer >= 0, "attention_grid_layout: map ", k, " has layer ", layer);
    if (by_layer.size() <= static_cast<size_t>(layer)) by_layer.resize(layer + 1);
    by_layer[layer].push_back(static_cast<int64_t>(k));
    layout.columns = std::max(layout.columns, static_cast<int64_t>(by_layer[layer].size()));
  }
  for (const auto& heads : by_layer) {
    for (int64_t c = 0; c < layout.columns; ++c) {
      layout.slots.push_back(c < static_cast<int64_t>(heads.size()) ? heads[c] : -1);
    }
  }
  return layout;
}

void save_attention_pictures(Seq2SeqModel& model, const G2PData& data, const std::string& word,
                             int64_t beam, const std::string& out_dir) {
  const Phonemes predicted = predict_words(model, data, {word}, beam)[0];
  std::vector<int32_t> target{tg::data::kBosId};
  for (int32_t id : data.phonemes.encode(predicted)) target.push_back(id);
  const std::vector<int32_t> source = encode_word(word, data.letters);
  const tg::Device device = model.device();
  const auto maps =
      model.attention(tg::from_vector(source, {1, static_cast<int64_t>(source.size())}).to(device),
                      tg::from_vector(target, {1, static_cast<int64_t>(target.size())}).to(device));
  // Row t is the step that predicts phoneme t (the last one predicts the end).
  std::vector<std::string> rows = predicted;
  rows.push_back("<eos>");
  const std::vector<std::string> letters = tg::data::split_characters(word);
  const std::string title = word + " -> " + joined(predicted);
  const std::string path = out_dir + "/attention_" + word + ".png";
  if (maps.size() == 1) {
    tg::attention_heatmap(maps[0].weights, rows, letters, title).save_png(path);
    return;
  }
  const AttentionGridLayout layout = attention_grid_layout(maps);
  std::vector<tg::Image> tiles;
  for (int64_t slot : layout.slots) {
    if (slot < 0) {
      tiles.emplace_back(1, 1);  // blank: this layer has fewer heads than the widest
    } else {
      const AttentionMap& map = maps[static_cast<size_t>(slot)];
      tiles.push_back(tg::attention_heatmap(map.weights, rows, letters, map.name));
    }
  }
  with_title(tg::image_grid(tiles, static_cast<int>(layout.columns), 16),
             "cross-attention of every layer and head: " + title)
      .save_png(path);
}

// In an MPI job one rank's error ends every rank, with its message; alone, run_main reports it.
static int ending_job_on_error(const std::string& program, const std::function<int()>& work) {
  try {
    return work();
  } catch (const std::exception& error) {
    if (tg::distributed::world_size() > 1)
      tg::distributed::abort_job(program + ": " + error.what(), tg::program::kFailed);
    throw;
  }
}

int run_program(int argc, char** argv, const ProgramSpec& spec) {
  Flags flags;
  flags.config = spec.config;
  flags.train = spec.train;
  flags.train.out_dir = spec.out_dir;
  CLI::App app(spec.description, spec.name);
  add_flags(app, flags, spec.family);
  return tg::program::run_main(spec.name, app, argc, argv, [&] {
    return ending_job_on_error(spec.name, [&] {
      if (flags.threads > 0) tg::set_num_threads(static_cast<int>(flags.threads));
      tg::manual_seed(flags.train.seed);
      const tg::Device device = *tg::device_named(flags.device);

      if (flags.predict || flags.evaluate_only) {
        const tg::Checkpoint checkpoint = tg::load_checkpoint(checkpoint_path(flags));
        LoadedHeader header = read_header(checkpoint);
        G2PData data;
        if (flags.evaluate_only) {
          data = load_g2p_data(flags.data_path, flags.limit, flags.split_seed);
          tg::check(data.letters == header.letters, spec.name, ": ", checkpoint_path(flags),
                    " was trained with other letters than ", flags.data_path, " has");
          check_same_split(header, data, checkpoint_path(flags));
        }
        data.letters = header.letters;
        data.phonemes = header.phonemes;
        auto model = spec.make_model(header.config, data.letters.size(), data.phonemes.size());
        load_weights(checkpoint, *model);
        if (!flags.quantize_path.empty()) {
          tg::Checkpoint header_only;
          data.split_seed = header.split_seed;
          write_header(header_only, header.config, data);
          tg::program::save_quantized(*model, flags.int8_activations, header_only,
                                      flags.quantize_path);
        }
        model->to(device);
        model->eval();
        if (flags.show_given) {
          tg::program::create_output_directory("--out", flags.train.out_dir);
          for (const std::string& word : flags.show_words) {
            save_attention_pictures(*model, data, word, flags.beam, flags.train.out_dir);
            std::printf("wrote %s/attention_%s.png\n", flags.train.out_dir.c_str(), word.c_str());
          }
        }
        if (flags.predict) return predict(*model, data, flags);
        const auto started = std::chrono::steady_clock::now();
        const std::clock_t cpu_started = std::clock();  // a busy machine's fairer clock
        print_scores("test", evaluate(*model, data, data.test, flags.beam), flags.beam);
        std::printf(
            "scored in %.1f s (CPU %.1f s)\n",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
            static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC);
        return 0;
      }
      tg::check(flags.quantize_path.empty(), spec.name,
                ": --quantize needs --evaluate or --predict (it quantizes the model of "
                "--checkpoint)");

      // A shape the model refuses (--embed 30 --heads 4) is reported before seconds of data
      // loading: the model is built once on a toy vocabulary, then the seed is set again.
      constexpr int64_t kToyVocabulary = 8;
      spec.make_model(flags.config, kToyVocabulary, kToyVocabulary);
      tg::manual_seed(flags.train.seed);

      if (flags.distributed) start_distributed(spec.name);
      const bool main_rank = tg::distributed::is_main();  // the one that prints and draws
      if (main_rank) tg::program::create_output_directory("--out", flags.train.out_dir);
      const G2PData data = load_g2p_data(flags.data_path, flags.limit, flags.split_seed);
      if (main_rank)
        std::printf(
            "%s: %zu train, %zu dev, %zu test words; %lld letters, %lld phonemes "
            "(specials included)\n",
            spec.name.c_str(), data.train.size(), data.dev.size(), data.test.size(),
            static_cast<long long>(data.letters.size()),
            static_cast<long long>(data.phonemes.size()));
      if (!flags.distill.teacher_paths.empty()) {
        std::vector<Teacher> teachers =
            load_teachers(flags.distill.teacher_paths, data, device, "--teacher");
        if (main_rank) print_distillation(teachers, flags.distill);
        const auto started = std::chrono::steady_clock::now();
        SoftTargetTable table = precompute_soft_targets(teachers, data, flags.distill.temperature);
        if (main_rank) print_soft_target_table(table, started);
        flags.train.batch_loss = distillation_batch_loss(std::move(table), flags.distill.alpha,
                                                         flags.train.label_smoothing);
      }
      auto model = spec.make_model(flags.config, data.letters.size(), data.phonemes.size());
      model->to(device);
      if (main_rank)
        std::printf("%lld parameters, %s, %d CPU threads\n",
                    static_cast<long long>(model->parameter_count()), flags.device.c_str(),
                    tg::num_threads());
      const TrainResult result = train_model(*model, flags.config, data, flags.train);
      if (main_rank)
        std::printf("trained %lld steps in %.0f s%s\n", static_cast<long long>(result.steps),
                    result.seconds, result.stopped_by_time_limit ? " (time limit)" : "");
      std::fflush(stdout);

      const ScoreTotals greedy = evaluate(*model, data, data.test, 1);
      const ScoreTotals beam =
          flags.beam > 1 ? evaluate(*model, data, data.test, flags.beam) : ScoreTotals{};
      if (!main_rank) return 0;
      print_scores("test", greedy, 1);
      if (flags.beam > 1) print_scores("test", beam, flags.beam);
      for (const std::string& word : flags.show_words) {
        try {
          save_attention_pictures(*model, data, word, flags.beam, flags.train.out_dir);
        } catch (const tg::Error& error) {
          std::fprintf(stderr, "%s\n", error.what());
        }
      }
      std::printf(
          "wrote %s/model.tg, metrics.csv, g2p_metrics.csv, loss.png, accuracy.png, %s"
          "attention_<word>.png\n",
          flags.train.out_dir.c_str(), flags.train.dev_words > 0 ? "error_rates.png, " : "");
      return 0;
    });
  });
}

}  // namespace g2p
