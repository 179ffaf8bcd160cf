// Parameter initialisers: each fills a float32 tensor in place from an explicit Generator, so
// the same seed always gives the same model. The formulas are PyTorch's (torch.nn.init), which
// makes models and learning curves comparable with it.
//
// Fans of a weight: for [out, in] (Linear), fan_in = in and fan_out = out; for [out, in, k...]
// both are multiplied by the receptive field k... . A 1-D tensor has no fans: the fan-based
// initialisers reject it.
#pragma once

#include <cmath>

#include "framework/random.h"
#include "framework/tensor.h"

namespace tg::init {

struct Fans {
  int64_t in, out;
};
Fans fans_of(const Tensor& t);  // tg::Error for fewer than 2 dims

// U(low, high) and N(mean, std^2): the same numbers as tg::uniform / tg::randn with this gen.
void uniform_(Tensor& t, float low, float high, Generator& gen);
void normal_(Tensor& t, float mean, float std, Generator& gen);
void constant_(Tensor& t, float value);
void zeros_(Tensor& t);
void ones_(Tensor& t);

// Glorot & Bengio (2010): keeps the variance of activations and of gradients alike,
//   Var = gain^2 * 2 / (fan_in + fan_out).
// uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))   (Var of U(-b,b) is b^2/3)
// normal:  N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))
void xavier_uniform_(Tensor& t, Generator& gen, float gain = 1.0f);
void xavier_normal_(Tensor& t, Generator& gen, float gain = 1.0f);

// He et al. (2015), fan_in mode, for a leaky ReLU of negative slope a:
//   gain = sqrt(2 / (1 + a^2)),  std = gain / sqrt(fan_in)
// uniform: U(-b, b), b = sqrt(3) * std = gain * sqrt(3 / fan_in)
// normal:  N(0, std^2)
// kaiming_uniform_'s default a = sqrt(5) is what PyTorch's Linear uses: gain = sqrt(1/3), so
// b = 1 / sqrt(fan_in). kaiming_normal_ keeps torch's default a = 0 (plain ReLU, gain sqrt(2)).
void kaiming_uniform_(Tensor& t, Generator& gen, float a = std::sqrt(5.0f));
void kaiming_normal_(Tensor& t, Generator& gen, float a = 0.0f);

// Saxe et al. (2014): a (semi-)orthogonal matrix times gain. The tensor is seen as
// [rows = size(0), cols = numel / rows]; a Gaussian matrix is orthonormalised by Gram-Schmidt
// (in double), which is its QR decomposition with diag(R) > 0, so the result is uniformly
// distributed over orthogonal matrices. rows <= cols: W W^T = gain^2 I; else W^T W = gain^2 I.
void orthogonal_(Tensor& t, Generator& gen, float gain = 1.0f);

}  // namespace tg::init
