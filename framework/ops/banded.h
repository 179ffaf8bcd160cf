// Products over a band of 2w+1 positions around the diagonal: the kernels of local attention
// (local_attention in attention.h), usable on their own.
//
// Row i of a band holds positions j = i - w .. i + w of the same sequence: entry t is
// j = i - w + t. A band [..., L, 2w+1] stands for the [..., L, L] matrix that is zero outside
// |i - j| <= w, at (2w+1)/L of its memory. Positions outside [0, L) (the first and last w rows'
// overhang) are 0 in every result and carry no gradient.
//
//   band_dot(a, b, w)               s[..., i, t] = a[..., i, :] . b[..., i - w + t, :]
//                                   (q k^T, computed on the band only)
//   band_weighted_sum(p, v, w)      o[..., i, :] = sum_t p[..., i, t] v[..., i - w + t, :]
//                                   (attention weights times v, the band only)
//
// Both cost L (2w+1) d multiply-adds per sequence, forward and backward, where the full products
// cost L^2 d.
#pragma once

#include <cstdint>

#include "framework/tensor.h"

namespace tg {

// a, b float32 [..., L, d] of the same shape -> [..., L, 2w+1].
Tensor band_dot(const Tensor& a, const Tensor& b, int64_t window);

// weights [..., L, 2w+1], v [..., L, d] with the same leading dims -> [..., L, d].
Tensor band_weighted_sum(const Tensor& weights, const Tensor& v, int64_t window);

}  // namespace tg
