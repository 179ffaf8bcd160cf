// Checkpoint: everything a training run needs to resume, as named tensors and key/value text.
//
// The engine knows nothing about layers or optimizers, so a Checkpoint is deliberately plain:
// an ordered list of (name, tensor) pairs and a sorted map of metadata strings. Whoever owns a
// piece of state writes it under a prefix of their own ("model.", "optim.", "schedule.",
// "rng.") and reads it back from there; optim/training_checkpoint.h gathers a model, an
// Optimizer, a schedule and the random generators into one. User keys (epoch, step,
// vocabulary...) go alongside with any other name.
//
// A Checkpoint owns copies: add_tensor() snapshots the data on the host, so the optimizer may
// keep updating parameters in place after a capture without changing what gets saved.
// The file format lives in framework/serialize.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "framework/tensor.h"

namespace tg {

// The same alias as layers/module.h declares (repeating an identical alias is legal C++).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Checkpoint {
 public:
  // ---- tensors, in the order they were added ----
  // Copies value to host memory. A name may appear once.
  void add_tensor(const std::string& name, const Tensor& value);
  // Takes a CPU tensor as it is, without copying: for readers that just made it.
  void adopt_tensor(const std::string& name, Tensor value);
  const NamedTensors& tensors() const { return tensors_; }
  bool has_tensor(const std::string& name) const;
  const Tensor& tensor(const std::string& name) const;  // tg::Error naming it when absent

  // ---- metadata: text values; numbers are written so that they read back exactly ----
  void set_string(const std::string& key, std::string value);
  void set_int(const std::string& key, int64_t value);
  void set_uint(const std::string& key, uint64_t value);
  void set_double(const std::string& key, double value);  // 17 significant digits: exact
  void set_bool(const std::string& key, bool value) { set_int(key, value ? 1 : 0); }
  bool has(const std::string& key) const { return metadata_.count(key) != 0; }
  // Each throws tg::Error naming the key when it is absent or does not parse as asked.
  const std::string& get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // ---- composing: each owner of state works in its own prefix ----
  // Adds every tensor and key of part with prefix prepended ("optim." + "group0.lr").
  void merge(const std::string& prefix, const Checkpoint& part);
  // The tensors and keys that start with prefix, with the prefix removed. Shares the tensors.
  Checkpoint extract(const std::string& prefix) const;

  // Where it came from ("run/ckpt.tgc"), for error messages; "checkpoint" when made in memory.
  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }

 private:
  NamedTensors tensors_;
  std::map<std::string, size_t> tensor_index_;
  std::map<std::string, std::string> metadata_;
  std::string source_ = "checkpoint";
};

// What a non-strict load skipped.
struct LoadReport {
  std::vector<std::string> missing;     // targets the checkpoint has no tensor for
  std::vector<std::string> unexpected;  // checkpoint tensors no target asked for
};

// Copies source's tensors named prefix + target name into targets, in place (every handle to a
// target sees the new values). Everything is checked before anything is copied, so an error
// leaves every target untouched: a dtype or shape mismatch is always an error; a missing or
// unexpected name is an error when strict and is listed in the report otherwise.
// who names the caller in messages ("load_into MLP"). optional_targets are loaded when source
// has them (checked like the others) and never missing: what older files saved and newer ones
// compute (Module::named_computed_buffers).
LoadReport load_named_tensors(const Checkpoint& source, const std::string& prefix,
                              const NamedTensors& targets, bool strict, const std::string& who,
                              const NamedTensors& optional_targets = {});

}  // namespace tg
