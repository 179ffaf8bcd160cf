#include "examples/g2p_common/training.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "examples/g2p_common/decoding.h"
#include "examples/g2p_common/g2p_distributed.h"
#include "examples/g2p_common/word_split.h"
#include "examples/program/program.h"
#include "examples/program/quantized_model.h"
#include "examples/reporting/colormap.h"
#include "examples/reporting/plot.h"
#include "examples/reporting/progress.h"
#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "layers/head_pruning.h"
#include "layers/loss.h"
#include "layers/model_checkpoint.h"
#include "optim/optim.h"

namespace g2p {

using tg::data::PronouncingEntry;
using tg::data::Seq2SeqBatch;
using tg::data::Vocabulary;

namespace {

constexpr double kDevFraction = 0.05, kTestFraction = 0.10;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string history_to_text(const std::vector<EpochRecord>& history) {
  std::ostringstream out;
  out.precision(17);
  for (const EpochRecord& r : history) {
    out << r.epoch << ' ' << r.train_loss << ' ' << r.dev_loss << ' ' << r.dev_wer << ' '
        << r.dev_per << ' ' << r.seconds << '\n';
  }
  return out.str();
}

std::vector<EpochRecord> history_from_text(const std::string& text) {
  std::vector<EpochRecord> history;
  std::istringstream in(text);
  EpochRecord r;
  while (in >> r.epoch >> r.train_loss >> r.dev_loss >> r.dev_wer >> r.dev_per >> r.seconds) {
    history.push_back(r);
  }
  return history;
}

int64_t token_count(const Seq2SeqBatch& batch) {
  int64_t tokens = 0;
  for (int32_t length : batch.target_lengths.to_vector<int32_t>()) tokens += length;
  return tokens;
}

// Mean token loss of entries under teacher forcing (eval mode, nothing recorded).
double teacher_forced_loss(Seq2SeqModel& model, const G2PData& data,
                           const std::vector<PronouncingEntry>& entries, int64_t batch_size) {
  tg::NoGradGuard no_grad;
  const auto pairs = tg::data::encode_for_training(entries, data.letters, data.phonemes);
  double total = 0;
  int64_t tokens = 0;
  const tg::Device device = model.device();
  for (const Seq2SeqBatch& cpu_batch : tg::data::bucketed_batches(pairs, batch_size, false, 0, 0)) {
    const Seq2SeqBatch batch = cpu_batch.to(device);
    const tg::Tensor logits =
        model.forward(batch.source, batch.source_lengths, batch.target_in, batch.target_lengths);
    const int64_t batch_tokens = token_count(cpu_batch);
    total += tg::sequence_cross_entropy(logits, batch.target_out, tg::data::kPadId).item() *
             static_cast<double>(batch_tokens);
    tokens += batch_tokens;
  }
  return tokens == 0 ? 0.0 : total / static_cast<double>(tokens);
}

std::unique_ptr<tg::LRSchedule> make_schedule(tg::Optimizer& optimizer, const TrainOptions& options,
                                              const ModelConfig& config, int64_t total_steps) {
  if (options.schedule == "cosine") {
    // A run shorter than its warmup would never decay (WarmupDecayLR refuses it): warm up over
    // the run's first fifth instead, and say so.
    int64_t warmup = options.warmup_steps;
    if (warmup >= total_steps) {
      warmup = total_steps / 5;
      if (!options.quiet)
        std::printf(
            "note: this run has %lld steps, fewer than --warmup %lld: warming up over "
            "the first %lld\n",
            static_cast<long long>(total_steps), static_cast<long long>(options.warmup_steps),
            static_cast<long long>(warmup));
    }
    return std::make_unique<tg::WarmupDecayLR>(optimizer, warmup, total_steps, tg::Decay::Cosine);
  }
  if (options.schedule == "noam") {
    return std::make_unique<tg::NoamLR>(optimizer, config.embed_dim, options.warmup_steps);
  }
  tg::check(options.schedule == "constant", "g2p: unknown schedule '", options.schedule,
            "' (expected cosine, noam or constant)");
  return std::make_unique<tg::StepLR>(optimizer, std::numeric_limits<int64_t>::max() / 2, 1.0);
}

}  // namespace

void write_header(tg::Checkpoint& checkpoint, const ModelConfig& config, const G2PData& data) {
  config.save(checkpoint);
  checkpoint.set_string("letters", data.letters.to_text());
  checkpoint.set_string("phonemes", data.phonemes.to_text());
  checkpoint.set_int("split_seed", static_cast<int64_t>(data.split_seed));
}

void ModelConfig::save(tg::Checkpoint& checkpoint) const {
  checkpoint.set_int("config.embed_dim", embed_dim);
  checkpoint.set_int("config.hidden", hidden);
  checkpoint.set_int("config.encoder_layers", encoder_layers);
  checkpoint.set_int("config.decoder_layers", decoder_layers);
  checkpoint.set_int("config.heads", heads);
  checkpoint.set_int("config.ff_hidden", ff_hidden);
  checkpoint.set_double("config.dropout", dropout);
  checkpoint.set_string("config.attention", attention);
  checkpoint.set_string("config.norm", norm);
  checkpoint.set_int("config.encoder_window", encoder_window);
}

ModelConfig ModelConfig::load(const tg::Checkpoint& checkpoint) {
  ModelConfig config;
  config.embed_dim = checkpoint.get_int("config.embed_dim");
  config.hidden = checkpoint.get_int("config.hidden");
  config.encoder_layers = checkpoint.get_int("config.encoder_layers");
  config.decoder_layers = checkpoint.get_int("config.decoder_layers");
  config.heads = checkpoint.get_int("config.heads");
  config.ff_hidden = checkpoint.get_int("config.ff_hidden");
  config.dropout = static_cast<float>(checkpoint.get_double("config.dropout"));
  config.attention = checkpoint.get_string("config.attention");
  // Checkpoints written before --norm existed hold pre-norm models.
  if (checkpoint.has("config.norm")) config.norm = checkpoint.get_string("config.norm");
  // And those from before --encoder-window, encoders that attend to every letter.
  if (checkpoint.has("config.encoder_window"))
    config.encoder_window = checkpoint.get_int("config.encoder_window");
  return config;
}

G2PData load_g2p_data(const std::string& path, int64_t limit, uint64_t split_seed) {
  tg::data::CmudictOptions options;
  options.limit = limit;
  const std::vector<PronouncingEntry> entries = tg::data::read_cmudict(path, options);
  tg::check(!entries.empty(), "--data: ", path,
            " has no dictionary entries (lines 'WORD  PH O N "
            "EH M Z')");
  tg::data::SplitResult split =
      tg::data::split_by_word(entries, kDevFraction, kTestFraction, split_seed);
  // Each word goes to train, dev or test by a hash of its spelling: a handful of words may
  // leave train empty.
  tg::check(!split.train.empty(), limit > 0 ? "--limit: " : "--data: ", entries.size(),
            " words leave no training words after the dev/test split (",
            limit > 0 ? "raise --limit" : "use a larger dictionary", ")");
  G2PData data;
  data.letters = tg::data::letter_vocabulary(split.train);
  data.phonemes = tg::data::phoneme_vocabulary(split.train);
  data.train = std::move(split.train);
  data.dev = std::move(split.dev);
  data.test = std::move(split.test);
  data.split_seed = split_seed;
  return data;
}

std::vector<int32_t> encode_word(const std::string& word, const Vocabulary& letters) {
  tg::check(!word.empty(), "g2p: cannot pronounce an empty word");
  std::vector<std::string> characters = tg::data::split_characters(word);
  for (std::string& c : characters) {
    if (c.size() == 1) c[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(c[0])));
    tg::check(letters.contains(c), "g2p: unknown character '", c, "' in '", word, "'");
  }
  return letters.encode(characters);
}

ScoreTotals evaluate(Seq2SeqModel& model, const G2PData& data,
                     const std::vector<PronouncingEntry>& entries, int64_t beam,
                     int64_t batch_size) {
  model.eval();
  const tg::Device device = model.device();
  // Distributed, each rank scores its share of the words; the counts are summed.
  const std::vector<PronouncingEntry> mine = share_of_entries(entries);
  const auto pairs = tg::data::encode_for_training(mine, data.letters, data.phonemes);
  ScoreTotals totals;
  for (const Seq2SeqBatch& batch : tg::data::bucketed_batches(pairs, batch_size, false, 0, 0)) {
    const auto predictions =
        decode(model, batch.source.to(device), batch.source_lengths.to(device), beam);
    for (int64_t row = 0; row < batch.size(); ++row) {
      const PronouncingEntry& entry = mine[batch.entry_indices[row]];
      totals.add(data.phonemes.decode(predictions[row]), entry.pronunciations);
    }
  }
  return sum_over_ranks(totals);
}

std::vector<Phonemes> predict_words(Seq2SeqModel& model, const G2PData& data,
                                    const std::vector<std::string>& words, int64_t beam) {
  std::vector<tg::data::EncodedPair> pairs;
  for (const std::string& word : words) pairs.push_back({encode_word(word, data.letters), {}});
  model.eval();
  const tg::Device device = model.device();
  std::vector<Phonemes> result(words.size());
  for (const Seq2SeqBatch& batch : tg::data::bucketed_batches(pairs, 256, false, 0, 0)) {
    const auto predictions =
        decode(model, batch.source.to(device), batch.source_lengths.to(device), beam);
    for (int64_t row = 0; row < batch.size(); ++row) {
      result[batch.entry_indices[row]] = data.phonemes.decode(predictions[row]);
    }
  }
  return result;
}

void save_model(const std::string& path, const Seq2SeqModel& model, const ModelConfig& config,
                const G2PData& data) {
  tg::Checkpoint checkpoint = tg::model_checkpoint(model);
  write_header(checkpoint, config, data);
  tg::save_checkpoint(checkpoint, path);
}

LoadedHeader read_header(const tg::Checkpoint& checkpoint) {
  return {ModelConfig::load(checkpoint), Vocabulary::from_text(checkpoint.get_string("letters")),
          Vocabulary::from_text(checkpoint.get_string("phonemes")),
          checkpoint.has("split_seed") ? static_cast<uint64_t>(checkpoint.get_int("split_seed"))
                                       : kDefaultSplitSeed};
}

void check_same_split(const LoadedHeader& header, const G2PData& data, const std::string& path) {
  tg::check(header.split_seed == data.split_seed, "g2p: ", path, " was trained with --split-seed ",
            header.split_seed, ", not ", data.split_seed,
            ": its test words would include words it trained on");
}

void load_weights(const tg::Checkpoint& checkpoint, Seq2SeqModel& model) {
  tg::program::load_model(checkpoint, model);  // float or int8, as the checkpoint holds
}

void write_curves(const std::string& out_dir, const std::vector<EpochRecord>& history,
                  bool dev_scored) {
  if (history.empty()) return;
  constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();
  std::vector<tg::EpochMetrics> metrics;
  tg::Series wer{"WER (words)", {}, {}, tg::categorical_color(0)};
  tg::Series per{"PER (phonemes)", {}, {}, tg::categorical_color(1)};
  std::ofstream csv(out_dir + "/g2p_metrics.csv");
  csv << "epoch,train_loss,dev_loss,dev_wer,dev_per,seconds\n";
  for (const EpochRecord& r : history) {
    metrics.push_back({static_cast<int>(r.epoch), r.train_loss, not_measured,
                       dev_scored ? r.dev_loss : not_measured,
                       dev_scored ? 1.0 - r.dev_wer : not_measured, r.seconds});
    wer.x.push_back(static_cast<double>(r.epoch));
    wer.y.push_back(100.0 * r.dev_wer);
    per.x.push_back(static_cast<double>(r.epoch));
    per.y.push_back(100.0 * r.dev_per);
    csv << r.epoch << ',' << r.train_loss << ',';
    if (dev_scored)
      csv << r.dev_loss << ',' << r.dev_wer << ',' << r.dev_per;
    else
      csv << ",,";  // empty cells: not measured
    csv << ',' << r.seconds << '\n';
  }
  tg::save_training_curves(out_dir, metrics);
  if (!dev_scored) return;  // no error rates to draw
  tg::line_plot({wer, per}, {.title = "dev error rates (greedy)",
                             .x_label = "epoch",
                             .y_label = "error %",
                             .y_from_zero = true,
                             .x_integer_ticks = true})
      .save_png(out_dir + "/error_rates.png");
}

TrainResult train_model(Seq2SeqModel& model, const ModelConfig& config, const G2PData& data,
                        const TrainOptions& options) {
  const auto pairs = tg::data::encode_for_training(data.train, data.letters, data.phonemes);
  // Distributed, batch_size is per rank and a step trains on the global batch of all ranks.
  const int64_t global_batch = options.batch_size * tg::distributed::world_size();
  const int64_t batches_per_epoch =
      (static_cast<int64_t>(pairs.size()) + global_batch - 1) / global_batch;
  const bool talk = !options.quiet && tg::distributed::is_main();  // rank 0 prints and writes
  const std::string checkpoint_path =
      options.checkpoint_path.empty() ? options.out_dir + "/model.tg" : options.checkpoint_path;
  // A run to resume is read first: a model whose heads were pruned (g2p_heads) takes the
  // checkpoint's shapes before the optimizer is given its parameters.
  tg::Checkpoint resumed;
  if (options.resume) {
    resumed = tg::load_checkpoint(checkpoint_path);
    tg::check(read_header(resumed).letters == data.letters, "g2p: ", checkpoint_path,
              " was trained on other letters than this data has");
    tg::apply_head_layout(resumed, model);
  }
  tg::AdamWOptions adam;
  adam.lr = options.lr;
  adam.weight_decay = options.weight_decay;
  tg::AdamW optimizer(tg::param_groups_no_decay(model.named_parameters(), options.weight_decay),
                      adam);
  auto schedule = make_schedule(optimizer, options, config, options.epochs * batches_per_epoch);
  const tg::TrainingState state{&model, &optimizer, schedule.get()};

  TrainResult result;
  int64_t first_epoch = 1;
  if (options.resume) {
    tg::restore(resumed, state);
    first_epoch = resumed.get_int("epoch") + 1;
    result.history = history_from_text(resumed.get_string("history"));
    if (talk)
      std::printf("resumed from %s after epoch %lld\n", checkpoint_path.c_str(),
                  static_cast<long long>(first_epoch - 1));
  }
  tg::distributed::broadcast_parameters(model);  // every rank starts from rank 0's weights
  tg::distributed::separate_random_streams();    // and draws its own dropout masks
  tg::distributed::GradientAverager averager(model);
  const bool writes = !options.out_dir.empty() && tg::distributed::is_main();
  if (writes) tg::program::create_output_directory("--out", options.out_dir);
  const std::vector<PronouncingEntry> dev_subset(
      data.dev.begin(), data.dev.begin() + std::min<int64_t>(options.dev_words, data.dev.size()));
  const std::vector<tg::Tensor> parameters = model.parameters();
  const tg::Device device = model.device();
  const auto run_start = Clock::now();

  for (int64_t epoch = first_epoch; epoch <= options.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    model.train();
    const auto batches = shares_of_batches(
        pairs, tg::data::bucketed_batches(pairs, global_batch, true, options.seed, epoch));
    std::unique_ptr<tg::ProgressBar> bar;
    if (talk) {
      bar = std::make_unique<tg::ProgressBar>(
          "epoch " + std::to_string(epoch) + "/" + std::to_string(options.epochs),
          static_cast<int64_t>(batches.size()));
    }
    double loss_sum = 0;
    int64_t tokens = 0, batches_done = 0;
    tg::Metrics shown;
    for (const Seq2SeqBatch& cpu_batch : batches) {
      optimizer.zero_grad();
      // A rank whose share of the last global batch is empty still joins the average.
      double batch_loss = 0;
      if (cpu_batch.size() > 0) {
        const Seq2SeqBatch batch = cpu_batch.to(device);
        const tg::Tensor logits = model.forward(batch.source, batch.source_lengths, batch.target_in,
                                                batch.target_lengths);
        const tg::Tensor loss = options.batch_loss ? options.batch_loss(batch, logits)
                                                   : tg::sequence_cross_entropy(
                                                         logits, batch.target_out, tg::data::kPadId,
                                                         options.label_smoothing);
        // Checked before backward: a diverged run stops with the weights of the last good step.
        batch_loss = loss.item();
        tg::program::check_loss_finite(batch_loss, result.steps + 1, options.lr);
        loss.backward();
      }
      averager.average(cpu_batch.size() > 0 ? token_count(cpu_batch) : 0);
      tg::clip_grad_norm(parameters, options.clip_norm);
      optimizer.step();
      schedule->step();
      ++result.steps;
      ++batches_done;
      loss_sum += batch_loss;
      tokens += cpu_batch.size() > 0 ? token_count(cpu_batch) : 0;
      const double elapsed = seconds_since(epoch_start);
      if (talk) {
        shown = {{"loss", loss_sum / batches_done},
                 {"tokens/s",  // rank 0's, times the ranks
                  static_cast<double>(tokens * tg::distributed::world_size()) / elapsed},
                 {"lr", schedule->lr()}};
        bar->step(cpu_batch.size() * tg::distributed::world_size(), shown);
      }
      if (options.time_limit_minutes > 0 &&
          decided_by_rank_zero(seconds_since(run_start) > 60.0 * options.time_limit_minutes)) {
        result.stopped_by_time_limit = true;
        break;
      }
    }
    if (talk) bar->finish(shown);

    EpochRecord record;
    record.epoch = epoch;
    record.train_loss =
        tg::distributed::sum(loss_sum) /
        static_cast<double>(std::max<int64_t>(1, batches_done) * tg::distributed::world_size());
    record.seconds = seconds_since(epoch_start);
    if (!dev_subset.empty()) {
      const ScoreTotals dev = evaluate(model, data, dev_subset, 1);
      record.dev_loss = teacher_forced_loss(model, data, dev_subset, 256);
      record.dev_wer = dev.wer();
      record.dev_per = dev.per();
    }
    result.history.push_back(record);
    if (talk) {
      char dev[128] = "no dev words scored (--dev-words 0)";
      if (!dev_subset.empty())
        std::snprintf(dev, sizeof dev, "dev loss %.4f, dev WER %.2f%%, PER %.2f%% (%lld words)",
                      record.dev_loss, 100 * record.dev_wer, 100 * record.dev_per,
                      static_cast<long long>(dev_subset.size()));
      std::printf("epoch %lld: train loss %.4f, %s, %.0f s%s\n", static_cast<long long>(epoch),
                  record.train_loss, dev, record.seconds,
                  result.stopped_by_time_limit ? " (stopped by the time limit)" : "");
      std::fflush(stdout);
    }
    if (writes) {
      tg::Checkpoint checkpoint = tg::capture(state);
      tg::save_head_layout(model, checkpoint);  // a pruned model's heads, as save_model records
      write_header(checkpoint, config, data);
      checkpoint.set_int("epoch", epoch);
      checkpoint.set_string("history", history_to_text(result.history));
      tg::save_checkpoint(checkpoint, checkpoint_path);
      write_curves(options.out_dir, result.history, !dev_subset.empty());
    }
    if (result.stopped_by_time_limit) break;
  }
  result.seconds = seconds_since(run_start);
  return result;
}

}  // namespace g2p
