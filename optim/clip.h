// Gradient clipping, between backward() and optimizer.step().
//
// clip_grad_norm rescales all gradients together so that their global L2 norm
//   ||g|| = sqrt(sum over every parameter and element of g^2)
// is at most max_norm: g = g * max_norm / (||g|| + 1e-6) when ||g|| > max_norm (the 1e-6 keeps
// the division safe, as in PyTorch). One scale for all keeps the update's direction.
// It returns the norm before clipping, the number worth logging. A non-finite norm (a NaN or inf
// gradient somewhere) is never applied: the gradients are left as they are, and it throws a
// tg::Error naming a parameter with a non-finite gradient, or, with error_if_nonfinite = false,
// returns the non-finite norm so that the caller can skip the step.
//
// clip_grad_value clamps every gradient element into [-clip_value, clip_value].
// Parameters without a gradient are skipped by both.
#pragma once

#include <vector>

#include "framework/checkpoint.h"
#include "framework/tensor.h"

namespace tg {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm,
                      bool error_if_nonfinite = true);
double clip_grad_norm(const NamedTensors& named_params, double max_norm,
                      bool error_if_nonfinite = true);  // names the culprit in the error

void clip_grad_value(const std::vector<Tensor>& params, double clip_value);
void clip_grad_value(const NamedTensors& named_params, double clip_value);

}  // namespace tg
