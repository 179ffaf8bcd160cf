#include "examples/g2p_common/model_kinds.h"

#include <set>

#include "examples/g2p_common/training.h"
#include "examples/g2p_lstm/g2p_lstm.h"
#include "examples/g2p_transformer/g2p_transformer.h"
#include "layers/model_checkpoint.h"

namespace g2p {

namespace {

// Whether the tensor names saved are this model's: all of its parameters and buffers, and
// nothing else but its computed buffers (which checkpoints of before 2026-12-02 hold).
bool names_match(const tg::Module& model, const std::set<std::string>& saved) {
  std::set<std::string> required, allowed;
  for (const auto& entry : model.named_parameters()) required.insert(entry.first);
  for (const auto& entry : model.named_buffers()) required.insert(entry.first);
  allowed = required;
  for (const auto& entry : model.named_computed_buffers()) allowed.insert(entry.first);
  for (const std::string& name : required)
    if (!saved.contains(name)) return false;
  for (const std::string& name : saved)
    if (!allowed.contains(name)) return false;
  return true;
}

}  // namespace

const std::vector<ModelKind>& model_kinds() {
  static const std::vector<ModelKind> kinds = {
      {"g2p_transformer",
       [](const ModelConfig& config, int64_t letters, int64_t phonemes, tg::Generator& gen) {
         return std::make_unique<TransformerG2P>(config, letters, phonemes, gen);
       }},
      {"g2p_lstm",
       [](const ModelConfig& config, int64_t letters, int64_t phonemes, tg::Generator& gen) {
         return std::make_unique<LSTMG2P>(config, letters, phonemes, gen);
       }}};
  return kinds;
}

std::unique_ptr<Seq2SeqModel> load_any_model(const tg::Checkpoint& checkpoint, int64_t letters,
                                             int64_t phonemes, const std::string& who,
                                             std::string* kind) {
  const ModelConfig config = ModelConfig::load(checkpoint);
  std::set<std::string> saved;
  const tg::Checkpoint weights = checkpoint.extract("model.");
  for (const auto& entry : weights.tensors()) saved.insert(entry.first);
  std::string tried;
  for (const ModelKind& candidate : model_kinds()) {
    // Built on a generator of its own: the weights are overwritten, and the program's stream
    // (its own model's initialisation, dropout) must not depend on how many teachers it loads.
    tg::Generator scratch(0);
    std::unique_ptr<Seq2SeqModel> model;
    try {
      model = candidate.make(config, letters, phonemes, scratch);
    } catch (const tg::Error&) {  // a config this kind cannot take (heads not dividing d_model)
    }
    if (!model || !names_match(*model, saved)) {
      tried += (tried.empty() ? "" : ", ") + candidate.name;
      continue;
    }
    tg::load_into(checkpoint, *model);
    if (kind) *kind = candidate.name;
    return model;
  }
  tg::fail(who, ": ", checkpoint.source(),
           " holds no model this program can build (its "
           "parameter names match none of ",
           tried, ")");
}

}  // namespace g2p
