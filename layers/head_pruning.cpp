#include "layers/head_pruning.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "framework/tapegrad.h"

namespace tg {
namespace {

const std::string kLayoutPrefix = "heads.";

// Every handle to parameter (Linear::weight, the module's list, ...) now holds value.
void replace_in_place(const Tensor& parameter, const Tensor& value) {
  TensorImpl& impl = *parameter.impl();
  impl.storage = value.storage();
  impl.offset = value.storage_offset();
  impl.shape = value.shape();
  impl.grad.reset();
}

// Keeps the entries [h d, (h+1) d) of x's dimension dim for each kept head h.
Tensor keep_blocks(const Tensor& x, int64_t dim, const std::vector<int64_t>& kept, int64_t d) {
  Shape shape = x.shape();
  shape[dim] = static_cast<int64_t>(kept.size()) * d;
  if (kept.empty()) return empty(shape, DType::Float32, x.device());
  std::vector<int32_t> index;
  for (int64_t h : kept)
    for (int64_t i = 0; i < d; ++i) index.push_back(static_cast<int32_t>(h * d + i));
  const Tensor rows = from_vector(index, {static_cast<int64_t>(index.size())}).to(x.device());
  return index_select(x, dim, rows);
}

template <class ModuleT, class Layer>
void collect_attention(ModuleT& module, const std::string& path,
                       std::vector<std::pair<std::string, Layer*>>& out) {
  if (auto* attention = dynamic_cast<Layer*>(&module)) out.emplace_back(path, attention);
  for (const auto& [name, child] : module.named_children())
    collect_attention(*child, path.empty() ? name : path + "." + name, out);
}

std::string join(const std::vector<int64_t>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  return out.str();
}

std::vector<int64_t> parse_heads(const std::string& text, const std::string& key,
                                 const std::string& source) {
  std::vector<int64_t> heads;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    int64_t value = -1;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check(used == item.size() && used > 0 && value >= 0, "apply_head_layout: ", source, ": ", key,
          " must list head numbers separated by commas, got '", text, "'");
    heads.push_back(value);
  }
  return heads;
}

}  // namespace

void prune_heads(MultiHeadAttention& layer, const std::vector<int64_t>& heads) {
  const int64_t count = layer.num_heads_;
  std::vector<bool> remove(static_cast<size_t>(count), false);
  for (int64_t h : heads) {
    check(h >= 0 && h < count, "prune_heads ", layer, ": head ", h, " is out of range [0, ", count,
          ")");
    check(!remove[h], "prune_heads ", layer, ": head ", h, " is listed twice");
    remove[h] = true;
  }
  std::vector<int64_t> kept, original;
  for (int64_t h = 0; h < count; ++h) {
    if (remove[h]) continue;
    kept.push_back(h);
    original.push_back(layer.original_heads_[h]);
  }
  const NoGradGuard no_grad;
  const int64_t d = layer.head_dim_;
  for (Linear* projection : {&layer.w_q, &layer.w_k, &layer.w_v}) {
    replace_in_place(projection->weight, keep_blocks(projection->weight, 0, kept, d));
    if (projection->bias.defined())
      replace_in_place(projection->bias, keep_blocks(projection->bias, 0, kept, d));
    projection->out_features = static_cast<int64_t>(kept.size()) * d;
  }
  replace_in_place(layer.w_o.weight, keep_blocks(layer.w_o.weight, 1, kept, d));
  layer.w_o.in_features = static_cast<int64_t>(kept.size()) * d;
  if (layer.head_mask_.defined()) layer.head_mask_ = keep_blocks(layer.head_mask_, 0, kept, 1);
  layer.num_heads_ = static_cast<int64_t>(kept.size());
  layer.original_heads_ = original;
}

std::vector<std::pair<std::string, MultiHeadAttention*>> attention_layers(Module& model) {
  std::vector<std::pair<std::string, MultiHeadAttention*>> out;
  collect_attention(model, "", out);
  return out;
}

void save_head_layout(const Module& model, Checkpoint& checkpoint) {
  std::vector<std::pair<std::string, const MultiHeadAttention*>> layers;
  collect_attention(model, "", layers);
  for (const auto& [path, layer] : layers) {
    if (layer->is_pruned())
      checkpoint.set_string(kLayoutPrefix + path, join(layer->original_heads()));
  }
}

void apply_head_layout(const Checkpoint& checkpoint, Module& model) {
  const auto layers = attention_layers(model);
  const auto& metadata = checkpoint.metadata();
  std::vector<std::pair<MultiHeadAttention*, std::vector<int64_t>>> removals;
  for (auto it = metadata.lower_bound(kLayoutPrefix);
       it != metadata.end() && it->first.starts_with(kLayoutPrefix); ++it) {
    const std::string path = it->first.substr(kLayoutPrefix.size());
    const auto found = std::find_if(layers.begin(), layers.end(),
                                    [&](const auto& entry) { return entry.first == path; });
    check(found != layers.end(), "apply_head_layout: ", checkpoint.source(),
          " records the heads of '", path, "', which is not an attention layer of ", model);
    MultiHeadAttention& layer = *found->second;
    const std::vector<int64_t> keep = parse_heads(it->second, it->first, checkpoint.source());
    const std::vector<int64_t>& has = layer.original_heads();
    for (int64_t head : keep)
      check(std::find(has.begin(), has.end(), head) != has.end(),
            "apply_head_layout: ", checkpoint.source(), " keeps head ", head, " of ", layer,
            ", which has heads ", join(has));
    std::vector<int64_t> remove;
    for (size_t h = 0; h < has.size(); ++h)
      if (std::find(keep.begin(), keep.end(), has[h]) == keep.end())
        remove.push_back(static_cast<int64_t>(h));
    removals.emplace_back(&layer, remove);
  }
  // Everything checked: now prune.
  for (const auto& [layer, remove] : removals) prune_heads(*layer, remove);
}

}  // namespace tg
