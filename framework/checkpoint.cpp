#include "framework/checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "framework/backend/backend.h"

namespace tg {

namespace {

Tensor host_copy(const Tensor& value) {
  return value.device() == Device::CPU ? value.clone() : value.to(Device::CPU);
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out;
}

}  // namespace

// ---- tensors ----

void Checkpoint::adopt_tensor(const std::string& name, Tensor value) {
  check(value.defined(), source_, ": tensor '", name, "' is undefined");
  check(value.device() == Device::CPU, source_, ": adopt_tensor needs a CPU tensor, '", name,
        "' is on ", to_string(value.device()));
  const auto [slot, inserted] = tensor_index_.try_emplace(name, tensors_.size());
  check(inserted, source_, ": the tensor name '", name, "' appears twice");
  tensors_.emplace_back(name, std::move(value));
}

void Checkpoint::add_tensor(const std::string& name, const Tensor& value) {
  check(value.defined(), source_, ": tensor '", name, "' is undefined");
  adopt_tensor(name, host_copy(value));
}

bool Checkpoint::has_tensor(const std::string& name) const {
  return tensor_index_.count(name) != 0;
}

const Tensor& Checkpoint::tensor(const std::string& name) const {
  const auto found = tensor_index_.find(name);
  check(found != tensor_index_.end(), source_, ": no tensor named '", name, "'");
  return tensors_[found->second].second;
}

// ---- metadata ----

void Checkpoint::set_string(const std::string& key, std::string value) {
  metadata_[key] = std::move(value);
}
void Checkpoint::set_int(const std::string& key, int64_t value) {
  metadata_[key] = std::to_string(value);
}
void Checkpoint::set_uint(const std::string& key, uint64_t value) {
  metadata_[key] = std::to_string(value);
}
void Checkpoint::set_double(const std::string& key, double value) {
  // 17 significant digits identify every double uniquely, so strtod gives back the same bits.
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  metadata_[key] = text;
}

const std::string& Checkpoint::get_string(const std::string& key) const {
  const auto found = metadata_.find(key);
  check(found != metadata_.end(), source_, ": no metadata key '", key, "'");
  return found->second;
}

int64_t Checkpoint::get_int(const std::string& key) const {
  const std::string& text = get_string(key);
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  check(!text.empty() && *end == '\0' && errno == 0, source_, ": metadata '", key,
        "' should be an integer, got '", text, "'");
  return value;
}

uint64_t Checkpoint::get_uint(const std::string& key) const {
  const std::string& text = get_string(key);
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  check(!text.empty() && text[0] != '-' && *end == '\0' && errno == 0, source_, ": metadata '", key,
        "' should be an unsigned integer, got '", text, "'");
  return value;
}

double Checkpoint::get_double(const std::string& key) const {
  const std::string& text = get_string(key);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  check(!text.empty() && *end == '\0', source_, ": metadata '", key, "' should be a number, got '",
        text, "'");
  return value;
}

bool Checkpoint::get_bool(const std::string& key) const {
  const int64_t value = get_int(key);
  check(value == 0 || value == 1, source_, ": metadata '", key, "' should be 0 or 1, got ", value);
  return value == 1;
}

// ---- composing ----

void Checkpoint::merge(const std::string& prefix, const Checkpoint& part) {
  for (const auto& [name, value] : part.tensors_) adopt_tensor(prefix + name, value);
  for (const auto& [key, value] : part.metadata_) {
    check(metadata_.count(prefix + key) == 0, source_, ": the metadata key '", prefix + key,
          "' appears twice");
    metadata_[prefix + key] = value;
  }
}

Checkpoint Checkpoint::extract(const std::string& prefix) const {
  Checkpoint part;
  part.source_ = source_;
  for (const auto& [name, value] : tensors_)
    if (name.starts_with(prefix)) part.adopt_tensor(name.substr(prefix.size()), value);
  for (auto it = metadata_.lower_bound(prefix);
       it != metadata_.end() && it->first.starts_with(prefix); ++it)
    part.metadata_[it->first.substr(prefix.size())] = it->second;
  return part;
}

// ---- applying named tensors ----

LoadReport load_named_tensors(const Checkpoint& source, const std::string& prefix,
                              const NamedTensors& targets, bool strict, const std::string& who,
                              const NamedTensors& optional_targets) {
  const std::string where = who + " from " + source.source();
  LoadReport report;
  std::vector<std::pair<const Tensor*, const Tensor*>> copies;  // (from, to)
  std::set<std::string> wanted;
  std::ostringstream mismatches;
  NamedTensors all_targets = targets;
  all_targets.insert(all_targets.end(), optional_targets.begin(), optional_targets.end());
  for (size_t i = 0; i < all_targets.size(); ++i) {
    const auto& [name, target] = all_targets[i];
    wanted.insert(prefix + name);
    if (!source.has_tensor(prefix + name)) {
      if (i < targets.size()) report.missing.push_back(name);
      continue;
    }
    const Tensor& saved = source.tensor(prefix + name);
    if (saved.dtype() != target.dtype() || saved.shape() != target.shape()) {
      mismatches << "\n  '" << name << "': the checkpoint has " << to_string(saved.dtype()) << " "
                 << to_string(saved.shape()) << ", the target is " << to_string(target.dtype())
                 << " " << to_string(target.shape());
      continue;
    }
    copies.emplace_back(&saved, &target);
  }
  for (const auto& [name, value] : source.tensors())
    if (name.starts_with(prefix) && wanted.count(name) == 0)
      report.unexpected.push_back(name.substr(prefix.size()));

  check(mismatches.str().empty(), where,
        ": shape or dtype mismatch, nothing was loaded:", mismatches.str());
  if (strict) {
    check(report.missing.empty(), where, ": strict load: ", report.missing.size(),
          " tensor(s) missing from the checkpoint: ", join_names(report.missing),
          "; nothing was loaded");
    check(report.unexpected.empty(), where, ": strict load: ", report.unexpected.size(),
          " unexpected tensor(s) in the checkpoint: ", join_names(report.unexpected),
          "; nothing was loaded");
  }
  for (const auto& [from, to] : copies)
    if (to->numel() > 0) backend_of(*to).copy_from_host(*to, from->raw_data());
  return report;
}

}  // namespace tg
