#include "framework/tape.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>

#include "framework/backend/backend.h"

namespace tg {

static thread_local bool recording = true;

bool grad_enabled() { return recording; }
NoGradGuard::NoGradGuard() : previous_(recording) { recording = false; }
NoGradGuard::~NoGradGuard() { recording = previous_; }

Tape& tape() {
  thread_local Tape the_tape;
  return the_tape;
}

// The next record to fill: one kept by clear() with its vectors' capacity, or a new one.
Tape::Record& Tape::next_record() {
  if (used_ == records_.size()) records_.emplace_back();
  Record& rec = records_[used_];
  rec.inputs.clear();  // an earlier fill that threw before commit() may have left some
  rec.more_outputs.clear();
  return rec;
}

// A tape this long without a backward() is almost surely a loop that records and never
// differentiates (evaluation without NoGradGuard): it would grow until memory runs out. It warns
// rather than throws because a legitimate graph may be this large (a very long unrolled RNN),
// and once per process so that a log is not flooded.
size_t Tape::commit() {
  Record& rec = records_[used_++];
  const size_t first_slot = slots_;
  rec.output.slot = slots_++;
  for (Output& more : rec.more_outputs) more.slot = slots_++;
  if (used_ != kGrowthWarningRecords) return first_slot;
  ++growth_warnings_;
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return first_slot;
  std::fprintf(stderr,
               "tapegrad: warning: the tape holds %zu records (the latest: %s) that no "
               "backward() has consumed; run code that needs no gradient under NoGradGuard, or "
               "call backward(). Printed once.\n",
               kGrowthWarningRecords, rec.op);
  return first_slot;
}

static bool will_record(const Tensor* inputs, size_t count) {
  if (!recording) return false;
  return std::any_of(inputs, inputs + count, [](const Tensor& t) { return t.requires_grad(); });
}
bool will_record(std::initializer_list<Tensor> inputs) {
  return will_record(inputs.begin(), inputs.size());
}

// Appends a record for output (and more_outputs) if recording is on and an input requires grad.
static bool append_record(const char* op, const Tensor* inputs, size_t count, const Tensor* outputs,
                          size_t output_count, Saved& saved, BackwardFn backward,
                          MultiBackwardFn multi_backward) {
  if (!will_record(inputs, count)) return false;

  Tape& the_tape = tape();
  Tape::Record& rec = the_tape.next_record();
  rec.op = op;
  rec.output.shape = outputs[0].shape();  // assigned into the recycled shape: no allocation
  for (size_t i = 0; i < count; ++i) {
    const Tensor& input = inputs[i];
    const bool needs_grad = input.requires_grad();
    // An input made by an op of a tape that backward() has consumed: the records that would
    // carry its gradient back to the leaves are gone, so that gradient would be lost silently.
    if (needs_grad && !input.is_leaf() && input.impl()->tape_generation != the_tape.generation())
      fail(op, ": input ", i, " ", input.shape(),
           " was computed before an earlier backward(), "
           "which consumed the tape that recorded it (backward through the graph a second "
           "time); call .detach() on it to use it as a constant (an RNN state carried across "
           "batches), or compute it again");
    std::optional<Shape> own_shape;
    if (input.shape() != rec.output.shape) own_shape = input.shape();
    rec.inputs.push_back({input.impl()->tape_slot, std::move(own_shape), needs_grad,
                          needs_grad && input.is_leaf() ? input.impl() : nullptr});
  }
  for (size_t o = 1; o < output_count; ++o) rec.more_outputs.push_back({0, outputs[o].shape()});
  rec.saved = std::move(saved);
  rec.backward = std::move(backward);
  rec.multi_backward = std::move(multi_backward);
  const size_t first_slot = the_tape.commit();
  for (size_t o = 0; o < output_count; ++o) {
    outputs[o].impl()->requires_grad = true;
    outputs[o].impl()->tape_generation = the_tape.generation();
    outputs[o].impl()->tape_slot = first_slot + o;
  }
  return true;
}

Tensor record(const char* op, std::initializer_list<Tensor> inputs, Tensor output, Saved saved,
              BackwardFn backward) {
  append_record(op, inputs.begin(), inputs.size(), &output, 1, saved, std::move(backward), {});
  return output;
}

Tensor record(const char* op, const std::vector<Tensor>& inputs, Tensor output, Saved saved,
              BackwardFn backward) {
  append_record(op, inputs.data(), inputs.size(), &output, 1, saved, std::move(backward), {});
  return output;
}

std::vector<Tensor> record_multi(const char* op, const std::vector<Tensor>& inputs,
                                 std::vector<Tensor> outputs, Saved saved,
                                 MultiBackwardFn backward) {
  if (!outputs.empty())
    append_record(op, inputs.data(), inputs.size(), outputs.data(), outputs.size(), saved, {},
                  std::move(backward));
  return outputs;
}

// The engine's own arithmetic on gradients runs the backend's kernels directly: the tape sits
// below ops/ (every op records on it), so it cannot call them, and nothing it computes here
// would be recorded anyway.

static Tensor copy_of(const Tensor& x) {
  Tensor copy = empty(x.shape(), x.dtype(), x.device());
  if (x.numel() > 0) backend_of(x).copy(x, copy);
  return copy;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t extra = x.dim() - static_cast<int64_t>(shape.size());
  check(extra >= 0, "sum_to: cannot reduce ", x.shape(), " to ", shape);
  Tensor reduced = x;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool leading = d < extra;
    if (leading || (shape[d - extra] == 1 && x.shape()[d] != 1))
      reduced = backend_of(x).reduce(ReduceOp::Sum, reduced, d);  // keeps d, with size 1
    else
      check(shape[d - extra] == x.shape()[d], "sum_to: cannot reduce ", x.shape(), " to ", shape);
  }
  return make_view(reduced, shape);
}

// The leaf's gradient so far, to add into. One put there by set_grad is checked first: set_grad
// takes any tensor (an optimizer names a wrong one when it steps), and adding into one of
// another shape would run off its end.
static Tensor existing_gradient(const TensorImpl& leaf, Device device) {
  const Tensor existing(leaf.grad);
  check(existing.shape() == leaf.shape && existing.dtype() == DType::Float32 &&
            existing.device() == device,
        "backward: a leaf of shape ", leaf.shape, " holds a gradient of ", existing.dtype(), " ",
        existing.shape(), " on ", existing.device(), " (set with set_grad?); expected float32 ",
        leaf.shape, " on ", device, ": call zero_grad() first");
  return existing;
}

// A leaf's gradient is updated in place later (optimizers, clipping), so it must own its
// storage: a backward may return gy itself for several inputs (add does), or a view of it. The
// first gradient is therefore copied; later ones are added into it in place.
static void accumulate_into_leaf(TensorImpl& leaf, const Tensor& grad) {
  if (leaf.grad)
    backend_of(grad).accumulate(existing_gradient(leaf, grad.device()), grad);
  else
    leaf.grad = copy_of(grad).impl();
}

// grad (+)= op(A) op(B): a beta = 1 gemm into the gradient so far, or beta = 0 into a new one.
void accumulate_product_into_leaf(const Tensor& leaf, const Tensor& a, const Tensor& b,
                                  bool trans_a, bool trans_b) {
  TensorImpl& impl = *leaf.impl();
  check(a.dim() == 2 && b.dim() == 2, "accumulate_product_into_leaf: expected two matrices, got ",
        a.shape(), " and ", b.shape());
  const int64_t m = trans_a ? a.size(1) : a.size(0), k = trans_a ? a.size(0) : a.size(1);
  const int64_t n = trans_b ? b.size(0) : b.size(1);
  check((trans_b ? b.size(1) : b.size(0)) == k && impl.shape == Shape{m, n},
        "accumulate_product_into_leaf: ", a.shape(), trans_a ? "^T" : "", " x ", b.shape(),
        trans_b ? "^T" : "", " does not make the leaf's shape ", impl.shape);
  Backend& backend = backend_of(a);
  if (impl.grad) {
    backend.gemm(trans_a, trans_b, m, n, k, 1.0f, a, 0, b, 0, 1.0f,
                 existing_gradient(impl, a.device()), 0, 1);
    return;
  }
  const Tensor grad = empty({m, n}, DType::Float32, a.device());
  if (grad.numel() > 0) backend.gemm(trans_a, trans_b, m, n, k, 1.0f, a, 0, b, 0, 0.0f, grad, 0, 1);
  impl.grad = grad.impl();
}

// A second gradient for an intermediate tensor (one used by several ops: an RNN's memory read
// at every decoding step) is added in place when the sum so far is the engine's alone: nothing
// else holds its TensorImpl or its storage (a backward may return its own gy, or a view of it,
// for several inputs, and those must not change). Otherwise the sum is a fresh tensor.
static void add_to_intermediate(Tensor& sum, const Tensor& grad) {
  if (sum.impl().use_count() == 1 && sum.storage().use_count() == 1)
    backend_of(grad).accumulate(sum, grad);
  else
    sum = backend_of(grad).binary(BinaryOp::Add, sum, grad);
}

void Tensor::backward() const {
  check(numel() == 1, "backward: called on a tensor of shape ", shape(),
        "; only a one-element tensor (a loss) can start backward without a seed gradient");
  Tensor one = empty(shape(), DType::Float32, device());
  backend_of(one).fill(one, 1.0f);
  backward(one);
}

void Tensor::backward(const Tensor& seed) const {
  check(requires_grad(),
        "backward: this tensor does not require grad (no input of the ops "
        "that made it requires grad, or it was made under NoGradGuard)");
  check(seed.shape() == shape(), "backward: seed gradient has shape ", seed.shape(),
        ", the tensor has shape ", shape());
  if (is_leaf()) {  // nothing to walk: the seed is the gradient
    accumulate_into_leaf(*impl(), seed);
    return;
  }
  check(impl()->tape_generation == tape().generation(),
        "backward: the tape that recorded this tensor was already consumed by an earlier "
        "backward(); compute the forward again before calling backward a second time");
  tape().backward(*this, seed);
}

void Tape::backward(const Tensor& root, const Tensor& seed) {
  NoGradGuard no_recording_inside_backward;
  std::vector<Tensor> grads(slots_);  // the gradients flowing into outputs, by slot
  grads[root.impl()->tape_slot] = seed;

  for (size_t i = used_; i-- > 0;) {
    Record& rec = records_[i];
    // The gradient that flowed into an output (undefined if none did) is moved out of the list.
    Grads input_grads;
    if (!rec.multi_backward) {
      const Tensor grad_output = std::move(grads[rec.output.slot]);
      if (!grad_output.defined()) continue;  // nothing flowed into this output
      input_grads = rec.backward(rec.saved, grad_output);
    } else {
      std::vector<Tensor> grad_outputs{std::move(grads[rec.output.slot])};
      for (const Output& output : rec.more_outputs)
        grad_outputs.push_back(std::move(grads[output.slot]));
      if (std::none_of(grad_outputs.begin(), grad_outputs.end(),
                       [](const Tensor& g) { return g.defined(); }))
        continue;
      input_grads = rec.multi_backward(rec.saved, grad_outputs);
    }
    check(input_grads.size() == rec.inputs.size(), "backward of ", rec.op, ": returned ",
          input_grads.size(), " gradients for ", rec.inputs.size(), " inputs");
    for (size_t j = 0; j < rec.inputs.size(); ++j) {
      const Input& input = rec.inputs[j];
      if (!input.needs_grad || !input_grads[j].defined()) continue;
      const Tensor grad = sum_to(input_grads[j], rec.input_shape(j));
      if (input.leaf) {
        accumulate_into_leaf(*input.leaf, grad);
      } else {
        Tensor& sum = grads[input.slot];
        if (sum.defined())
          add_to_intermediate(sum, grad);
        else
          sum = grad;
      }
    }
    rec.saved.clear();  // free what this record kept alive as soon as it is used
  }
  clear();
}

void Tape::clear() {
  // Each record lets go of what it holds (saved tensors, leaves, tensors a backward captured)
  // and keeps its vectors' capacity for the next generation's records.
  for (size_t i = 0; i < used_; ++i) {
    Record& rec = records_[i];
    rec.inputs.clear();
    rec.saved.clear();
    rec.backward = nullptr;
    rec.more_outputs.clear();
    rec.multi_backward = nullptr;
  }
  used_ = 0;
  slots_ = 0;
  ++generation_;
}

std::string Tape::dump() const {
  std::ostringstream out;
  size_t total = 0;
  for (size_t i = 0; i < used_; ++i) {
    const Record& rec = records_[i];
    size_t saved_bytes = 0;
    for (const Tensor& t : rec.saved)
      if (t.defined()) saved_bytes += t.nbytes();
    total += saved_bytes;
    out << "#" << i << " " << rec.op << "(";
    for (size_t j = 0; j < rec.inputs.size(); ++j)
      out << (j ? ", " : "") << to_string(rec.input_shape(j));
    out << ") -> " << to_string(rec.output.shape);
    for (const Output& more : rec.more_outputs) out << ", " << to_string(more.shape);
    out << "  saves " << saved_bytes << " bytes\n";
  }
  out << used_ << " records, " << total << " bytes saved for backward\n";
  return out.str();
}

}  // namespace tg
