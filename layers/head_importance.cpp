#include "layers/head_importance.h"

#include <cmath>
#include <map>

#include "framework/tapegrad.h"
#include "layers/head_pruning.h"
#include "layers/multi_head_attention.h"

namespace tg {
namespace {

// What one attention layer accumulates over the batches.
struct Probe {
  MultiHeadAttention* layer;
  std::string path, parent;  // path of the module that holds it: pairs cross- with self-attention
  Tensor gate;
  std::vector<double> abs_gradient_sum, entropy_sum, queries;
};

// Adds each head's entropy -sum_j p log p of every real query (query_keep [B, Lq] 0/1, or
// undefined: all real) whose row is a distribution (a fully masked row is all zeros).
void add_entropy(const AttentionObservation& seen, const Tensor& query_keep, Probe& probe) {
  const Shape& s = seen.weights.shape();  // [B, H, Lq, Lk]
  const int64_t batch = s[0], heads = s[1], query_len = s[2], key_len = s[3];
  const std::vector<float> p = seen.weights.to_vector<float>();
  const std::vector<float> keep =
      query_keep.defined() ? query_keep.to_vector<float>() : std::vector<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < query_len; ++i) {
        if (!keep.empty() && keep[b * query_len + i] == 0.0f) continue;
        const float* row = &p[((b * heads + h) * query_len + i) * key_len];
        double total = 0, entropy = 0;
        for (int64_t j = 0; j < key_len; ++j) {
          total += row[j];
          if (row[j] > 0) entropy -= row[j] * std::log(static_cast<double>(row[j]));
        }
        if (total <= 0) continue;
        probe.entropy_sum[h] += entropy;
        probe.queries[h] += 1;
      }
}

// Puts back what head_importance changed, also when the loss throws.
struct Restore {
  Module& model;
  bool training;
  std::vector<std::pair<Tensor, bool>> requires_grad;
  std::vector<Probe>& probes;
  std::vector<Tensor> masks;
  ~Restore() {
    model.train(training);
    for (auto& [parameter, flag] : requires_grad) parameter.set_requires_grad(flag);
    for (size_t i = 0; i < masks.size(); ++i) {  // the layers given a gate and an observer
      probes[i].layer->set_head_mask(masks[i]);
      probes[i].layer->observer = nullptr;
    }
  }
};

}  // namespace

std::vector<HeadStatistics> head_importance(Module& model, int64_t num_batches,
                                            const std::function<Tensor(int64_t)>& loss) {
  check(num_batches > 0, "head_importance: num_batches must be positive, got ", num_batches);
  std::vector<Probe> probes;
  for (const auto& [path, layer] : attention_layers(model)) {
    const size_t dot = path.rfind('.');
    const size_t heads = static_cast<size_t>(layer->num_heads());
    probes.push_back({layer, path, dot == std::string::npos ? "" : path.substr(0, dot), Tensor(),
                      std::vector<double>(heads), std::vector<double>(heads),
                      std::vector<double>(heads)});
  }
  check(!probes.empty(), "head_importance: ", model, " has no MultiHeadAttention layer");

  Restore restore{model, model.is_training(), {}, probes, {}};
  for (Tensor parameter : model.parameters()) {  // a handle: the flag is shared
    restore.requires_grad.emplace_back(parameter, parameter.requires_grad());
    parameter.set_requires_grad(false);  // only the gates need gradients
  }
  model.eval();
  std::map<std::string, Tensor> last_self_keep;  // by parent: the queries of its cross-attention
  for (Probe& probe : probes) {
    restore.masks.push_back(probe.layer->head_mask());
    probe.layer->observer = [&probe, &last_self_keep](const AttentionObservation& seen) {
      Tensor query_keep;
      if (seen.self_attention) {
        query_keep = last_self_keep[probe.parent] = seen.key_keep;
      } else if (auto it = last_self_keep.find(probe.parent); it != last_self_keep.end()) {
        const Tensor& keep = it->second;  // used when it is as long as the queries
        if (keep.defined() && keep.size(1) == seen.weights.size(2)) query_keep = keep;
      }
      add_entropy(seen, query_keep, probe);
    };
  }

  const Device device = model.device();
  for (int64_t batch = 0; batch < num_batches; ++batch) {
    last_self_keep.clear();
    for (Probe& probe : probes) {
      if (probe.layer->num_heads() == 0) continue;
      probe.gate = ones({probe.layer->num_heads()}, DType::Float32, device).set_requires_grad();
      probe.layer->set_head_mask(probe.gate);
    }
    const Tensor value = loss(batch);
    check(value.defined() && value.numel() == 1, "head_importance: the loss of batch ", batch,
          " must be a scalar, got ",
          [&] { return value.defined() ? to_string(value.shape()) : "undefined"; });
    value.backward();
    for (Probe& probe : probes) {
      if (!probe.gate.defined() || !probe.gate.grad().defined())
        continue;  // not on the loss's path
      const std::vector<float> gradient = probe.gate.grad().to_vector<float>();
      for (size_t h = 0; h < gradient.size(); ++h)
        probe.abs_gradient_sum[h] += std::abs(gradient[h]);
    }
  }

  std::vector<HeadStatistics> result;
  for (const Probe& probe : probes) {
    HeadStatistics stats{probe.path, probe.layer->original_heads(), {}, {}, {}};
    double norm = 0;
    for (size_t h = 0; h < probe.abs_gradient_sum.size(); ++h) {
      const double importance = probe.abs_gradient_sum[h] / static_cast<double>(num_batches);
      stats.raw_importance.push_back(importance);
      norm += importance * importance;
      stats.entropy.push_back(probe.queries[h] > 0 ? probe.entropy_sum[h] / probe.queries[h] : 0.0);
    }
    norm = std::sqrt(norm);
    for (double importance : stats.raw_importance)
      stats.importance.push_back(norm > 0 ? importance / norm : 0.0);
    result.push_back(std::move(stats));
  }
  return result;
}

}  // namespace tg
