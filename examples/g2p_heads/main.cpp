// g2p_heads: which attention heads of a trained g2p_transformer matter? Measures every head's
// importance and attention entropy, draws them, prunes heads greedily from the least important
// and scores each pruned model on dev words. See README.md; the pieces are in head_study.h.
#include <cstdio>
#include <fstream>

#include "examples/g2p_heads/head_study.h"
#include "examples/g2p_transformer/g2p_transformer.h"
#include "examples/program/program.h"
#include "framework/serialize.h"
#include "layers/layers.h"

namespace {

struct Flags {
  std::string checkpoint = "out/g2p_transformer/model.tg";
  std::string data_path = tg::data::kCmudictPath;
  std::string out_dir = "out/g2p_heads";
  int64_t limit = -1;
  uint64_t split_seed = g2p::kDefaultSplitSeed;
  int64_t importance_words = 2000, dev_words = 1000, batch = 64, every = 1, threads = 0;
  int64_t timing_repeats = 7;
  double save_at = 0.5, fine_tune_minutes = 0, fine_tune_lr = 2e-4;
  std::string rank = "normalised";
};

void add_flags(CLI::App& app, Flags& f) {
  using tg::program::whole_number;
  app.option_defaults()->always_capture_default();
  // clang-format off
  app.add_option("--checkpoint", f.checkpoint, "a trained g2p_transformer model");
  app.add_option("--data", f.data_path, "CMUdict file");
  app.add_option("--limit", f.limit, "read only the first N words")->check(whole_number(1, 1000000000))
      ->default_str("all");
  app.add_option("--split-seed", f.split_seed, "which words are dev and test (as in training)")
      ->check(whole_number(0, tg::program::kMaxSeed));
  app.add_option("--out", f.out_dir, "PNGs, CSVs and the pruned model");
  app.add_option("--importance-words", f.importance_words, "training words that measure importance")
      ->check(whole_number(1, 1000000000));
  app.add_option("--dev-words", f.dev_words, "dev words scored (greedy) after each pruning step")
      ->check(whole_number(1, 1000000000));
  app.add_option("--batch", f.batch, "words per batch")->check(whole_number(1, 1 << 20));
  app.add_option("--rank", f.rank, "order of pruning: normalised (per layer, as Michel et al.) "
                 "or raw importance")->check(CLI::IsMember({"normalised", "raw"}));
  app.add_option("--every", f.every, "heads pruned per step of the curve")->check(whole_number(1, 1 << 20));
  app.add_option("--timing-repeats", f.timing_repeats, "training steps timed per point (median)")
      ->check(whole_number(1, 1000));
  app.add_option("--save-at", f.save_at, "save the model pruned by this fraction of its heads "
                 "as OUT/model_pruned.tg")->check(tg::program::number_between(0, 1));
  app.add_option("--fine-tune-minutes", f.fine_tune_minutes, "then train the saved pruned model "
                 "this long (0: not)")->check(tg::program::kFiniteNonNegative);
  app.add_option("--fine-tune-lr", f.fine_tune_lr, "its constant learning rate (AdamW)")
      ->check(tg::program::kFinitePositive);
  app.add_option("--threads", f.threads, "CPU threads (0: all)")->check(whole_number(0, 1024));
  // clang-format on
}

std::vector<tg::data::PronouncingEntry> first(const std::vector<tg::data::PronouncingEntry>& all,
                                              int64_t count) {
  return {all.begin(), all.begin() + std::min<int64_t>(count, static_cast<int64_t>(all.size()))};
}

// Reads OUT/model_pruned.tg back (as g2p_transformer --evaluate would), trains it for a few
// minutes at a constant learning rate, scores it on the same dev words and saves it.
void fine_tune(const Flags& flags, const g2p::LoadedHeader& header, const g2p::G2PData& data,
               const std::vector<tg::data::PronouncingEntry>& dev) {
  const std::string path = flags.out_dir + "/model_pruned.tg";
  g2p::TransformerG2P model(header.config, data.letters.size(), data.phonemes.size());
  g2p::load_weights(tg::load_checkpoint(path), model);
  g2p::TrainOptions options;
  options.epochs = 1;
  options.batch_size = flags.batch;
  options.lr = flags.fine_tune_lr;
  options.schedule = "constant";
  options.warmup_steps = 0;
  options.label_smoothing = 0.1f;
  options.weight_decay = 0.01;
  options.dev_words = 0;
  options.time_limit_minutes = flags.fine_tune_minutes;
  options.quiet = true;
  const g2p::TrainResult trained = g2p::train_model(model, header.config, data, options);
  const g2p::ScoreTotals scores = g2p::evaluate(model, data, dev, 1, flags.batch);
  std::printf("fine-tuned the pruned model for %lld steps (%.1f min): dev WER %.2f%%, PER %.2f%%\n",
              static_cast<long long>(trained.steps), trained.seconds / 60, 100 * scores.wer(),
              100 * scores.per());
  std::ofstream(flags.out_dir + "/fine_tune.csv")
      << "steps,minutes,dev_wer,dev_per\n"
      << trained.steps << ',' << trained.seconds / 60 << ',' << scores.wer() << ',' << scores.per()
      << '\n';
  g2p::save_model(flags.out_dir + "/model_pruned_finetuned.tg", model, header.config, data);
}

int run(const Flags& flags) {
  if (flags.threads > 0) tg::set_num_threads(static_cast<int>(flags.threads));
  tg::program::create_output_directory("--out", flags.out_dir);
  const tg::Checkpoint checkpoint = tg::load_checkpoint(flags.checkpoint);
  const g2p::LoadedHeader header = g2p::read_header(checkpoint);
  g2p::G2PData data = g2p::load_g2p_data(flags.data_path, flags.limit, flags.split_seed);
  g2p::check_same_split(header, data, flags.checkpoint);
  data.letters = header.letters;
  data.phonemes = header.phonemes;
  g2p::TransformerG2P model(header.config, data.letters.size(), data.phonemes.size());
  g2p::load_weights(checkpoint, model);
  model.eval();

  const auto stats =
      g2p::measure_heads(model, data, first(data.train, flags.importance_words), flags.batch);
  {
    std::ofstream csv(flags.out_dir + "/heads.csv");
    csv << "layer,head,importance,raw_importance,entropy\n";
    for (const tg::HeadStatistics& s : stats)
      for (size_t i = 0; i < s.heads.size(); ++i)
        csv << s.layer << ',' << s.heads[i] + 1 << ',' << s.importance[i] << ','
            << s.raw_importance[i] << ',' << s.entropy[i] << '\n';
  }
  g2p::head_heatmap(stats, "head importance (normalised per layer)", false)
      .save_png(flags.out_dir + "/heads_importance.png");
  g2p::head_heatmap(stats, "attention entropy (share of the largest)", true)
      .save_png(flags.out_dir + "/heads_entropy.png");

  const std::vector<g2p::RankedHead> ranked = g2p::pruning_order(stats, flags.rank == "normalised");
  const auto dev = first(data.dev, flags.dev_words);
  const auto dev_pairs = tg::data::encode_for_training(dev, data.letters, data.phonemes);
  const tg::data::Seq2SeqBatch timing =
      tg::data::bucketed_batches(dev_pairs, flags.batch, false, 0, 0)[0];
  const int64_t total = static_cast<int64_t>(ranked.size());
  std::vector<g2p::PruningPoint> points;
  bool saved = false;
  for (int64_t removed = 0;; removed = std::min(total, removed + flags.every)) {
    const int64_t done = points.empty() ? 0 : points.back().removed;
    const std::string names =
        g2p::prune_ranked(model, {ranked.begin() + done, ranked.begin() + removed});
    const g2p::ScoreTotals scores = g2p::evaluate(model, data, dev, 1, flags.batch);
    g2p::PruningPoint point{
        removed,
        total,
        model.parameter_count(),
        scores.wer(),
        scores.per(),
        g2p::step_milliseconds(model, timing, static_cast<int>(flags.timing_repeats)),
        names};
    model.eval();
    points.push_back(point);
    std::printf(
        "%3lld/%lld heads removed: %lld parameters, dev WER %.2f%%, PER %.2f%%, step %.1f ms %s\n",
        static_cast<long long>(removed), static_cast<long long>(total),
        static_cast<long long>(point.parameters), 100 * point.wer, 100 * point.per, point.step_ms,
        names.empty() ? "" : ("(" + names + ")").c_str());
    std::fflush(stdout);
    if (!saved && point.fraction() >= flags.save_at) {
      g2p::save_model(flags.out_dir + "/model_pruned.tg", model, header.config, data);
      std::printf("wrote %s/model_pruned.tg (%lld of %lld heads kept)\n", flags.out_dir.c_str(),
                  static_cast<long long>(total - removed), static_cast<long long>(total));
      saved = true;
    }
    g2p::write_pruning_curve(flags.out_dir, points);
    if (removed == total) break;
  }
  if (saved && flags.fine_tune_minutes > 0) fine_tune(flags, header, data, dev);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app(
      "Head importance, attention entropy and greedy head pruning of a trained "
      "g2p_transformer.",
      "g2p_heads");
  add_flags(app, flags);
  return tg::program::run_main("g2p_heads", app, argc, argv, [&] { return run(flags); });
}
