// Every G2P architecture by name, so that a program can rebuild a model it did not train (a
// distillation teacher) from a checkpoint alone: which kind it is, is read off its parameters'
// names, and its size off the checkpoint's config.
//
// This file names both programs' models: each g2p program is built with the model sources of
// the whole g2p family (examples/CMakeLists.txt), as the family's tests are.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "examples/g2p_common/seq2seq.h"
#include "framework/checkpoint.h"
#include "framework/random.h"

namespace g2p {

// Initialises the model's weights from gen.
using ModelFactory = std::function<std::unique_ptr<Seq2SeqModel>(
    const ModelConfig&, int64_t letters, int64_t phonemes, tg::Generator& gen)>;

struct ModelKind {
  std::string name;  // the program that trains it: "g2p_transformer", "g2p_lstm"
  ModelFactory make;
};

const std::vector<ModelKind>& model_kinds();

// A model of the checkpoint's kind and config, its weights loaded; throws tg::Error naming
// `who` and the checkpoint's source when no kind's parameter names match the checkpoint's.
// kind (if given) receives the kind's name.
std::unique_ptr<Seq2SeqModel> load_any_model(const tg::Checkpoint& checkpoint, int64_t letters,
                                             int64_t phonemes, const std::string& who,
                                             std::string* kind = nullptr);

}  // namespace g2p
