#include "examples/g2p_heads/head_study.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <limits>

#include "examples/reporting/colormap.h"
#include "examples/reporting/heatmap.h"
#include "examples/reporting/plot.h"
#include "layers/layers.h"

namespace g2p {

std::vector<tg::HeadStatistics> measure_heads(
    Seq2SeqModel& model, const G2PData& data,
    const std::vector<tg::data::PronouncingEntry>& entries, int64_t batch_size,
    int64_t max_batches) {
  const auto pairs = tg::data::encode_for_training(entries, data.letters, data.phonemes);
  std::vector<tg::data::Seq2SeqBatch> batches =
      tg::data::bucketed_batches(pairs, batch_size, false, 0, 0);
  if (max_batches > 0 && static_cast<int64_t>(batches.size()) > max_batches)
    batches.resize(static_cast<size_t>(max_batches));
  const tg::Device device = model.device();
  return tg::head_importance(model, static_cast<int64_t>(batches.size()), [&](int64_t i) {
    const tg::data::Seq2SeqBatch batch = batches[static_cast<size_t>(i)].to(device);
    const tg::Tensor logits =
        model.forward(batch.source, batch.source_lengths, batch.target_in, batch.target_lengths);
    return tg::sequence_cross_entropy(logits, batch.target_out, tg::data::kPadId);
  });
}

std::string short_layer_name(const std::string& path) {
  const bool encoder = path.starts_with("encoder.");
  const size_t digits = path.find("layers.");
  const std::string kind = path.ends_with("cross_attn") ? "cross" : "self";
  if (digits == std::string::npos) return path;
  const int layer = std::stoi(path.substr(digits + 7));
  return std::string(encoder ? "enc " : "dec ") + std::to_string(layer + 1) + " " + kind;
}

tg::Image head_heatmap(const std::vector<tg::HeadStatistics>& stats, const std::string& title,
                       bool entropy) {
  int64_t heads = 0;
  double largest = 0;
  for (const tg::HeadStatistics& s : stats) {
    for (int64_t h : s.heads) heads = std::max(heads, h + 1);
    for (double e : s.entropy) largest = std::max(largest, e);
  }
  std::vector<std::vector<float>> values;
  std::vector<std::string> rows, columns;
  for (int64_t h = 0; h < heads; ++h) columns.push_back(std::to_string(h + 1));
  for (const tg::HeadStatistics& s : stats) {
    std::vector<float> row(static_cast<size_t>(heads), std::numeric_limits<float>::quiet_NaN());
    for (size_t i = 0; i < s.heads.size(); ++i)  // entropy drawn as a share of the largest
      row[s.heads[i]] = static_cast<float>(entropy ? s.entropy[i] / largest : s.importance[i]);
    values.push_back(row);
    rows.push_back(short_layer_name(s.layer));
  }
  return tg::attention_heatmap(values, rows, columns, title, 40);
}

std::vector<RankedHead> pruning_order(const std::vector<tg::HeadStatistics>& stats,
                                      bool normalised) {
  std::vector<RankedHead> ranked;
  for (const tg::HeadStatistics& s : stats)
    for (size_t i = 0; i < s.heads.size(); ++i)
      ranked.push_back({s.layer, s.heads[i], normalised ? s.importance[i] : s.raw_importance[i]});
  std::stable_sort(ranked.begin(), ranked.end(), [](const RankedHead& a, const RankedHead& b) {
    return a.importance < b.importance;
  });
  return ranked;
}

std::string prune_ranked(tg::Module& model, const std::vector<RankedHead>& heads) {
  for (const auto& [path, layer] : tg::attention_layers(model)) {
    std::vector<int64_t> remove;  // current indices of the listed heads
    const std::vector<int64_t>& has = layer->original_heads();
    for (const RankedHead& ranked : heads) {
      if (ranked.layer != path) continue;
      const auto it = std::find(has.begin(), has.end(), ranked.head);
      tg::check(it != has.end(), "prune_ranked: ", *layer, " has no head ", ranked.head);
      remove.push_back(it - has.begin());
    }
    tg::prune_heads(*layer, remove);
  }
  std::string names;
  for (const RankedHead& ranked : heads)
    names += (names.empty() ? "" : "; ") + short_layer_name(ranked.layer) + " " +
             std::to_string(ranked.head + 1);
  return names;
}

// Process CPU time: on a machine shared with other work, wall time counts the waits for a core.
static double cpu_milliseconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return 1e3 * static_cast<double>(now.tv_sec) + 1e-6 * static_cast<double>(now.tv_nsec);
}

double step_milliseconds(Seq2SeqModel& model, const tg::data::Seq2SeqBatch& batch, int repeats) {
  const tg::data::Seq2SeqBatch on_device = batch.to(model.device());
  std::vector<double> times;
  for (int r = 0; r <= repeats; ++r) {  // the first one warms the allocator up, uncounted
    const double start = cpu_milliseconds();
    const tg::Tensor logits = model.forward(on_device.source, on_device.source_lengths,
                                            on_device.target_in, on_device.target_lengths);
    tg::sequence_cross_entropy(logits, on_device.target_out, tg::data::kPadId).backward();
    if (r > 0) times.push_back(cpu_milliseconds() - start);
  }
  model.zero_grad();
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void write_pruning_curve(const std::string& out_dir, const std::vector<PruningPoint>& points) {
  std::ofstream csv(out_dir + "/pruning.csv");
  csv << "heads_removed,heads_total,fraction_removed,parameters,dev_wer,dev_per,step_ms,"
         "removed_at_this_step\n";
  tg::Series wer{"dev WER", {}, {}, tg::categorical_color(0)};
  tg::Series per{"dev PER", {}, {}, tg::categorical_color(1)};
  tg::Series step{"step time", {}, {}, tg::categorical_color(2)};
  for (const PruningPoint& p : points) {
    csv << p.removed << ',' << p.total << ',' << p.fraction() << ',' << p.parameters << ',' << p.wer
        << ',' << p.per << ',' << p.step_ms << ',' << p.last_removed << '\n';
    for (tg::Series* s : {&wer, &per, &step}) s->x.push_back(100.0 * p.fraction());
    wer.y.push_back(100.0 * p.wer);
    per.y.push_back(100.0 * p.per);
    step.y.push_back(p.step_ms);
  }
  tg::line_plot({wer, per}, {.title = "greedy head pruning, least important first",
                             .x_label = "heads removed %",
                             .y_label = "dev error %",
                             .y_from_zero = true})
      .save_png(out_dir + "/pruning_curve.png");
  tg::line_plot({step}, {.title = "training step (forward + backward)",
                         .x_label = "heads removed %",
                         .y_label = "ms",
                         .y_from_zero = true})
      .save_png(out_dir + "/pruning_step_time.png");
}

}  // namespace g2p
