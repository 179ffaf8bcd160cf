// The pieces of g2p_heads (see README.md): measure the heads of a trained G2P Transformer,
// draw them, rank them, prune them greedily and score each pruned model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "examples/g2p_common/training.h"
#include "examples/reporting/image.h"
#include "layers/head_importance.h"

namespace g2p {

// Importance and entropy of every attention head (tg::head_importance) under teacher forcing:
// the loss of each batch of batch_size words of entries is the token cross-entropy (no label
// smoothing). At most max_batches batches (0: all).
std::vector<tg::HeadStatistics> measure_heads(
    Seq2SeqModel& model, const G2PData& data,
    const std::vector<tg::data::PronouncingEntry>& entries, int64_t batch_size,
    int64_t max_batches = 0);

// "encoder.layers.0.self_attn" -> "enc 1 self", "decoder.layers.2.cross_attn" -> "dec 3 cross".
std::string short_layer_name(const std::string& path);

// One tile per layer x head: value(stats[layer], h) for each head (original numbering), NaN
// (grey) where a layer lacks a head. Rows: layers; columns: heads 1..H.
tg::Image head_heatmap(const std::vector<tg::HeadStatistics>& stats, const std::string& title,
                       bool entropy);

// Every head of every layer, least important first: by the per-layer normalised importance
// (Michel et al.: layers compared on one scale), or, with normalised = false, by the raw one.
struct RankedHead {
  std::string layer;  // path
  int64_t head;       // numbered as when built
  double importance;
};
std::vector<RankedHead> pruning_order(const std::vector<tg::HeadStatistics>& stats,
                                      bool normalised = true);

// Prunes the given heads (original numbering) from model's attention layers, and returns them
// as "enc 1 self 2; dec 3 cross 4" (heads numbered from 1, as in the heatmaps).
std::string prune_ranked(tg::Module& model, const std::vector<RankedHead>& heads);

// Median process CPU time of a training step's forward and backward (no optimizer) on batch:
// with one thread, the step's compute, without the waits for a core on a shared machine. On a
// GPU it would miss the device's time (this program runs on the CPU).
double step_milliseconds(Seq2SeqModel& model, const tg::data::Seq2SeqBatch& batch, int repeats);

struct PruningPoint {
  int64_t removed = 0, total = 0;  // heads
  int64_t parameters = 0;
  double wer = 0, per = 0, step_ms = 0;
  std::string last_removed;  // the heads this step removed: "dec 1 cross 4; enc 2 self 1"
  double fraction() const { return total ? static_cast<double>(removed) / total : 0.0; }
};

// Writes <out_dir>/pruning.csv and pruning_curve.png (dev WER and PER against the fraction of
// heads removed) and pruning_step_time.png.
void write_pruning_curve(const std::string& out_dir, const std::vector<PruningPoint>& points);

}  // namespace g2p
