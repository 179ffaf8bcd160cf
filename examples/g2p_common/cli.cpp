#include "examples/g2p_common/cli.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "examples/g2p_common/g2p_distributed.h"
#include "examples/reporting/heatmap.h"
#include "framework/backend/backend.h"
#include "framework/random.h"
#include "framework/serialize.h"

namespace g2p {

namespace {

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
  bool show_given = false;   // --show with --predict/--evaluate: draw those words too
  bool distributed = false;  // one process of an MPI job (g2p_distributed.h)
  std::vector<std::string> predict_words,
      show_words = {"phoenix", "knight", "thought", "xylophone"};
};

void print_usage(const ProgramSpec& spec, const Flags& d, std::ostream& out) {
  out << "usage: " << spec.name << " [flags]                 train, test, draw attention\n"
      << "       " << spec.name << " --evaluate [--beam K]   score the test words\n"
      << "       " << spec.name << " --predict [WORD...|-]   pronounce words (- or none: stdin)\n"
      << spec.description << "\n\n"
      << "data and output:\n"
      << "  --data PATH          CMUdict file (default " << d.data_path << ")\n"
      << "  --limit N            read only the first N words (default all)\n"
      << "  --split-seed N       which words are dev and test (default " << d.split_seed << ")\n"
      << "  --out DIR            model.tg, curves, attention PNGs (default " << d.train.out_dir
      << ")\n"
      << "  --checkpoint PATH    checkpoint to write/resume/read (default DIR/model.tg)\n"
      << "  --resume             continue training from the checkpoint\n"
      << "model:\n"
      << "  --embed N            embedding size / d_model (default " << d.config.embed_dim << ")\n"
      << "  --hidden N           LSTM hidden size, both directions together (default "
      << d.config.hidden << ")\n"
      << "  --layers N           encoder layers (default " << d.config.encoder_layers << ")\n"
      << "  --decoder-layers N   Transformer decoder layers (default " << d.config.decoder_layers
      << ")\n"
      << "  --heads N            Transformer attention heads (default " << d.config.heads << ")\n"
      << "  --ff N               Transformer feed-forward width (default " << d.config.ff_hidden
      << ")\n"
      << "  --dropout X          (default " << d.config.dropout << ")\n"
      << "  --attention KIND     LSTM attention: additive or dot (default " << d.config.attention
      << ")\n"
      << "training:\n"
      << "  --epochs N           (default " << d.train.epochs << ")\n"
      << "  --batch N            words per batch (default " << d.train.batch_size << ")\n"
      << "  --lr X               peak learning rate of AdamW (default " << d.train.lr << ")\n"
      << "  --schedule S         cosine (warmup, then cosine to 0), noam or constant (default "
      << d.train.schedule << ")\n"
      << "  --warmup N           warmup steps (default " << d.train.warmup_steps << ")\n"
      << "  --weight-decay X     AdamW decoupled weight decay (default " << d.train.weight_decay
      << ")\n"
      << "  --label-smoothing X  (default " << d.train.label_smoothing << ")\n"
      << "  --clip X             gradient norm clip (default " << d.train.clip_norm << ")\n"
      << "  --dev-words N        dev words scored after each epoch (default " << d.train.dev_words
      << ")\n"
      << "  --time-limit MIN     stop training after MIN minutes (default: none)\n"
      << "  --seed N             initial weights, dropout and batch order (default 0)\n"
      << "running:\n"
      << "  --threads N          CPU threads (default: all)\n"
      << "  --device D           cpu or cuda (default cpu)\n"
      << "  --beam K             beam width for test scoring and --predict (default 1: greedy)\n"
      << "  --show W1,W2,...     words whose attention is drawn (default phoenix,knight,...)\n"
      << "  --distributed        one process of `mpirun -np R`: --batch N per process, R x N in "
         "all\n"
      << "  --help               this text\n";
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

Flags parse_flags(int argc, char** argv, const ProgramSpec& spec) {
  Flags flags;
  flags.config = spec.config;
  flags.train = spec.train;
  flags.train.out_dir = spec.out_dir;
  auto bad = [&](const std::string& why) {
    std::cerr << spec.name << ": " << why << "\n";
    print_usage(spec, flags, std::cerr);
    std::exit(2);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage(spec, flags, std::cout);
      std::exit(0);
    }
    if (flag == "--resume") {
      flags.train.resume = true;
      continue;
    }
    if (flag == "--evaluate") {
      flags.evaluate_only = true;
      continue;
    }
    if (flag == "--predict") {
      flags.predict = true;
      continue;
    }
    if (flag == "--distributed") {
      flags.distributed = true;
      continue;
    }
    if (flag.rfind("--", 0) != 0) {  // a word (or "-") for --predict, wherever it stands
      flags.predict_words.push_back(flag);
      continue;
    }
    if (i + 1 >= argc) bad("missing value after " + flag);
    const std::string value = argv[++i];
    try {
      auto positive = [&](int64_t n) {
        if (n < 1) bad(flag + " must be at least 1, got " + value);
        return n;
      };
      if (flag == "--data")
        flags.data_path = value;
      else if (flag == "--out")
        flags.train.out_dir = value;
      else if (flag == "--checkpoint")
        flags.train.checkpoint_path = value;
      else if (flag == "--limit")
        flags.limit = positive(std::stoll(value));
      else if (flag == "--embed")
        flags.config.embed_dim = positive(std::stoll(value));
      else if (flag == "--hidden")
        flags.config.hidden = positive(std::stoll(value));
      else if (flag == "--layers")
        flags.config.encoder_layers = positive(std::stoll(value));
      else if (flag == "--decoder-layers")
        flags.config.decoder_layers = positive(std::stoll(value));
      else if (flag == "--heads")
        flags.config.heads = positive(std::stoll(value));
      else if (flag == "--ff")
        flags.config.ff_hidden = positive(std::stoll(value));
      else if (flag == "--dropout")
        flags.config.dropout = std::stof(value);
      else if (flag == "--attention")
        flags.config.attention = value;
      else if (flag == "--epochs")
        flags.train.epochs = positive(std::stoll(value));
      else if (flag == "--batch")
        flags.train.batch_size = positive(std::stoll(value));
      else if (flag == "--lr")
        flags.train.lr = std::stod(value);
      else if (flag == "--schedule")
        flags.train.schedule = value;
      else if (flag == "--warmup")
        flags.train.warmup_steps = std::stoll(value);
      else if (flag == "--weight-decay")
        flags.train.weight_decay = std::stod(value);
      else if (flag == "--label-smoothing")
        flags.train.label_smoothing = std::stof(value);
      else if (flag == "--clip")
        flags.train.clip_norm = std::stod(value);
      else if (flag == "--dev-words")
        flags.train.dev_words = std::stoll(value);
      else if (flag == "--time-limit")
        flags.train.time_limit_minutes = std::stod(value);
      else if (flag == "--seed")
        flags.train.seed = std::stoull(value);
      else if (flag == "--split-seed")
        flags.split_seed = std::stoull(value);
      else if (flag == "--threads")
        flags.threads = positive(std::stoll(value));
      else if (flag == "--device")
        flags.device = value;
      else if (flag == "--beam")
        flags.beam = positive(std::stoll(value));
      else if (flag == "--show") {
        flags.show_words = split_commas(value);
        flags.show_given = true;
      } else
        bad("unknown flag " + flag);
    } catch (const std::logic_error&) {
      bad("cannot read " + flag + " value '" + value + "'");
    }
  }
  if (!flags.predict && !flags.predict_words.empty()) {
    bad("unexpected argument '" + flags.predict_words[0] + "' (words go with --predict)");
  }
  if (!tg::device_named(flags.device)) {
    bad("--device: expected cpu or cuda, got '" + flags.device + "'");
  }
  return flags;
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

}  // namespace

void save_attention_pictures(Seq2SeqModel& model, const G2PData& data, const std::string& word,
                             int64_t beam, int64_t columns, const std::string& out_dir) {
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
  std::vector<tg::Image> tiles;
  for (const AttentionMap& map : maps) {
    tiles.push_back(tg::attention_heatmap(map.weights, rows, letters, map.name));
  }
  with_title(tg::image_grid(tiles, static_cast<int>(columns), 16),
             "cross-attention of every layer and head: " + title)
      .save_png(path);
}

int run_program(int argc, char** argv, const ProgramSpec& spec) {
  const Flags flags = parse_flags(argc, argv, spec);
  try {
    if (flags.threads > 0) tg::set_num_threads(static_cast<int>(flags.threads));
    tg::manual_seed(flags.train.seed);
    const int64_t grid_columns = spec.name == "g2p_transformer" ? flags.config.heads : 1;
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
      model->to(device);
      model->eval();
      if (flags.show_given) {
        std::filesystem::create_directories(flags.train.out_dir);
        for (const std::string& word : flags.show_words) {
          save_attention_pictures(*model, data, word, flags.beam, grid_columns,
                                  flags.train.out_dir);
          std::printf("wrote %s/attention_%s.png\n", flags.train.out_dir.c_str(), word.c_str());
        }
      }
      if (flags.predict) return predict(*model, data, flags);
      print_scores("test", evaluate(*model, data, data.test, flags.beam), flags.beam);
      return 0;
    }

    if (flags.distributed) start_distributed(spec.name);
    const bool main_rank = tg::distributed::is_main();  // the one that prints and draws
    const G2PData data = load_g2p_data(flags.data_path, flags.limit, flags.split_seed);
    if (main_rank)
      std::printf(
          "%s: %zu train, %zu dev, %zu test words; %lld letters, %lld phonemes "
          "(specials included)\n",
          spec.name.c_str(), data.train.size(), data.dev.size(), data.test.size(),
          static_cast<long long>(data.letters.size()),
          static_cast<long long>(data.phonemes.size()));
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
        save_attention_pictures(*model, data, word, flags.beam, grid_columns, flags.train.out_dir);
      } catch (const tg::Error& error) {
        std::fprintf(stderr, "%s\n", error.what());
      }
    }
    std::printf(
        "wrote %s/model.tg, metrics.csv, g2p_metrics.csv, loss.png, accuracy.png, "
        "error_rates.png, attention_<word>.png\n",
        flags.train.out_dir.c_str());
    return 0;
  } catch (const tg::Error& error) {
    const std::string message = spec.name + ": " + error.what();
    if (tg::distributed::world_size() > 1) tg::distributed::abort_job(message, 1);  // every rank
    std::fprintf(stderr, "%s\n", message.c_str());
    return 1;
  }
}

}  // namespace g2p
