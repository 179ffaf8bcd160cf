#include "layers/module.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace tg {

void Module::check_new_name(const std::string& name) const {
  check(!name.empty() && name.find('.') == std::string::npos, *this,
        ": a registered name must be non-empty and contain no '.', got '", name, "'");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  check(!taken(parameters_) && !taken(buffers_) && !taken(computed_buffers_) && !taken(children_),
        *this, ": the name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name);
  check(value.defined() && value.dtype() == DType::Float32, *this, ": parameter '", name,
        "' must be a defined float32 tensor");
  if (!value.requires_grad()) value.set_requires_grad();
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::add_buffer(NamedTensors Module::*list, const std::string& name, Tensor value) {
  check_new_name(name);
  check(value.defined(), *this, ": buffer '", name, "' is undefined");
  (this->*list).emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  return add_buffer(&Module::buffers_, name, std::move(value));
}

Tensor Module::register_computed_buffer(const std::string& name, Tensor value) {
  return add_buffer(&Module::computed_buffers_, name, std::move(value));
}

void Module::remove_parameter(const std::string& name) {
  const auto found = std::find_if(parameters_.begin(), parameters_.end(),
                                  [&](const auto& entry) { return entry.first == name; });
  check(found != parameters_.end(), *this, ": it has no parameter '", name, "' to remove");
  parameters_.erase(found);
}

void Module::add_child(const std::string& name, Module& child) {
  check_new_name(name);
  check(child.parent_ == nullptr, *this, ": module '", name, "' is already registered in ",
        [&] { return child.parent_->describe(); });
  child.parent_ = this;
  child.name_ = name;
  children_.emplace_back(name, &child);
}

// Every module's list (its parameters_, buffers_ or computed_buffers_), depth first.
void Module::collect(const std::string& prefix, NamedTensors Module::*list,
                     NamedTensors& out) const {
  for (const auto& [name, tensor] : this->*list) out.emplace_back(prefix + name, tensor);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", list, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", &Module::parameters_, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters()) out.push_back(tensor);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", &Module::buffers_, out);
  return out;
}

NamedTensors Module::named_computed_buffers() const {
  NamedTensors out;
  collect("", &Module::computed_buffers_, out);
  return out;
}

void Module::collect_state(const std::string& prefix, NamedTensors& out) const {
  for (const NamedTensors* own : {&parameters_, &buffers_})
    for (const auto& [name, tensor] : *own) out.emplace_back(prefix + name, tensor.detach());
  for (const auto& [name, child] : children_) child->collect_state(prefix + name + ".", out);
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect_state("", out);
  return out;
}

LoadReport Module::load_state_dict(const NamedTensors& state, bool strict) {
  // Through a Checkpoint: its host copies make any device a source, and load_named_tensors
  // checks every key, dtype and shape before it copies anything.
  Checkpoint source;
  source.set_source("the state dict");
  for (const auto& [name, tensor] : state) {
    check(!source.has_tensor(name), "load_state_dict ", describe(), ": the key '", name,
          "' appears twice in the state dict");
    source.add_tensor(name, tensor);
  }
  NamedTensors targets;
  collect_state("", targets);
  return load_named_tensors(source, "", targets, strict, "load_state_dict " + describe(),
                            named_computed_buffers());
}

std::vector<std::pair<std::string, const Module*>> Module::named_children() const {
  return {children_.begin(), children_.end()};
}

std::vector<std::pair<std::string, Module*>> Module::named_children() { return children_; }

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (const auto& [name, tensor] : named_parameters()) count += tensor.numel();
  return count;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (const auto& [name, tensor] : named_parameters()) tensor.zero_grad();
}

void Module::to(Device device) {
  for (NamedTensors list : {named_parameters(), named_buffers(), named_computed_buffers()}) {
    for (auto& [name, tensor] : list) {
      if (tensor.device() == device) continue;
      const Tensor moved = tensor.to(device);
      tensor.impl()->storage = moved.storage();  // every handle to it sees the move
      tensor.impl()->offset = moved.storage_offset();
      tensor.zero_grad();
    }
  }
}

Device Module::device() const {
  const NamedTensors parameters = named_parameters();
  return parameters.empty() ? Device::CPU : parameters.front().second.device();
}

std::string Module::path() const {
  if (parent_ == nullptr) return type_name_;
  std::string up = parent_->parent_ == nullptr ? "" : parent_->path() + ".";
  return up + name_;
}

std::ostream& operator<<(std::ostream& out, const Module& module) {
  return out << module.describe();
}

std::string Module::describe() const {
  return parent_ == nullptr ? type_name_ : type_name_ + " '" + path() + "'";
}

std::string Module::summary() const {
  std::ostringstream out;
  const NamedTensors params = named_parameters();
  size_t width = 9;
  for (const auto& [name, tensor] : params) width = std::max(width, name.size());
  out << type_name_ << "\n"
      << std::left << std::setw(static_cast<int>(width)) << "parameter"
      << "  " << std::setw(16) << "shape" << std::right << std::setw(12) << "count"
      << "\n";
  for (const auto& [name, tensor] : params) {
    out << std::left << std::setw(static_cast<int>(width)) << name << "  " << std::setw(16)
        << to_string(tensor.shape()) << std::right << std::setw(12) << tensor.numel() << "\n";
  }
  out << "total: " << parameter_count() << " parameters\n";
  return out.str();
}

}  // namespace tg
