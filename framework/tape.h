// The tape: reverse-mode automatic differentiation in one list.
//
// Every differentiable op, after computing its output, calls record(). If gradients are being
// recorded and some input requires a gradient, a Record is appended to this thread's tape:
// the op's name, which inputs it read, which output it wrote, the tensors its backward needs
// ("saved") and the backward function itself.
//
// loss.backward() walks the tape from the end. For each record whose output has a gradient,
// it calls the backward function, which returns one gradient per input. The engine reduces
// each gradient to its input's shape (undoing broadcasting), adds it to the gradient of that
// input (a leaf's .grad(), or an intermediate gradient held only until its record runs), and
// drops the output's gradient as soon as it is used. Then the tape is cleared.
//
// One tape per thread: backward() consumes everything recorded on this thread since the last
// backward(). Inference and optimizer updates run under NoGradGuard so that nothing records.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "framework/tensor.h"

namespace tg {

using Saved = std::vector<Tensor>;  // what backward keeps alive, named explicitly
using Grads = std::vector<Tensor>;  // one per input; undefined = no gradient for that input
using BackwardFn = std::function<Grads(const Saved& saved, const Tensor& grad_output)>;
// For ops with several outputs: one gradient per output, undefined where none flowed.
using MultiBackwardFn =
    std::function<Grads(const Saved& saved, const std::vector<Tensor>& grad_outputs)>;

// Appends a record (when recording is on and an input requires grad) and returns output,
// marked as requiring grad. Otherwise returns output untouched.
Tensor record(const char* op, std::initializer_list<Tensor> inputs, Tensor output, Saved saved,
              BackwardFn backward);
// The same for ops with a variable number of inputs (concat, stack).
Tensor record(const char* op, const std::vector<Tensor>& inputs, Tensor output, Saved saved,
              BackwardFn backward);

// Ops with several outputs (unbind, split, the fused LSTM cell's h and c) record once, so that
// backward sees every output's gradient together and builds its input's gradient in one pass.
std::vector<Tensor> record_multi(const char* op, const std::vector<Tensor>& inputs,
                                 std::vector<Tensor> outputs, Saved saved,
                                 MultiBackwardFn backward);

bool grad_enabled();

// Whether record() would append a record for these inputs: recording is on and one of them
// requires grad. An op that keeps extra state for its backward (lstm_sequence keeps every
// step's activations) asks first, so that under NoGradGuard it keeps nothing.
bool will_record(std::initializer_list<Tensor> inputs);

// For a backward whose gradient for a leaf is a product of two matrices (linear's dW = G^T X):
// instead of returning it (and the engine adding a fresh [m, n] tensor into .grad), the backward
// hands the factors to the engine, which adds op(A) op(B) into leaf.grad with one gemm
// (C += A B, beta = 1), or stores it as the leaf's first gradient; the backward then returns an
// undefined gradient for that input. A and B are 2-D, on the leaf's device; the product must
// have the leaf's shape. Still the engine alone writes gradients.
void accumulate_product_into_leaf(const Tensor& leaf, const Tensor& a, const Tensor& b,
                                  bool trans_a, bool trans_b);

// Sums x down to shape, undoing NumPy broadcasting: what the engine applies to every gradient
// before adding it to its input's. Runs kernels only, so it is not recorded.
Tensor sum_to(const Tensor& x, const Shape& shape);

// Turns recording off for its scope.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

class Tape {
 public:
  // A recorded op's output gets a slot, a number counted from 0 in each tape generation; an input
  // names the slot of the output it was (when it is not a leaf). Backward keeps the gradients
  // flowing into outputs in a list indexed by slot: no lookup by tensor, no allocation per op.
  struct Input {
    size_t slot;  // of the record output this input is; unused for leaves
    // The input's shape, which backward sums the input's gradient down to, kept only where it
    // differs from the output's (the op broadcast it, or reshaped it): most inputs have the
    // output's shape, and a copy of it for each would cost a heap allocation per input per op.
    std::optional<Shape> own_shape;
    bool needs_grad;
    std::shared_ptr<TensorImpl> leaf;  // set for leaves that require grad: where .grad lives
  };
  struct Output {
    size_t slot = 0;
    Shape shape;
  };
  struct Record {
    const char* op = nullptr;
    std::vector<Input> inputs;
    Output output;
    Saved saved;
    BackwardFn backward;
    // Multi-output ops only: the other outputs, and the backward that takes every gradient.
    std::vector<Output> more_outputs;
    MultiBackwardFn multi_backward;

    const Shape& input_shape(size_t j) const {
      return inputs[j].own_shape ? *inputs[j].own_shape : output.shape;
    }
  };

  // Past this many records without a backward(), append() warns on stderr (once per process):
  // such a tape is almost surely a loop that forgot NoGradGuard, growing until memory runs out.
  static constexpr size_t kGrowthWarningRecords = 1'000'000;
  // Recording an op fills next_record() and then commit()s it, which gives its outputs their
  // slots and returns the first one's (the others follow it). Records are recycled: clear()
  // empties them but keeps them, with their vectors' capacity, so that once a training step is
  // warm its records cost no allocation (an arena of records, reused every step).
  Record& next_record();
  size_t commit();
  size_t growth_warnings() const { return growth_warnings_; }  // times it passed the limit
  void backward(const Tensor& root, const Tensor& seed);
  void clear();
  size_t size() const { return used_; }
  uint64_t generation() const { return generation_; }
  // One line per record: op, input shapes -> output shape, bytes kept alive for backward.
  std::string dump() const;

 private:
  std::vector<Record> records_;  // [0, used_) hold this generation's records
  size_t used_ = 0;
  size_t slots_ = 0;  // outputs recorded in this generation
  uint64_t generation_ = 1;
  size_t growth_warnings_ = 0;
};

Tape& tape();  // this thread's tape

}  // namespace tg
