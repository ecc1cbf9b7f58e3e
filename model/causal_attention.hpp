#pragma once
// Causal self-attention for training on LibTorch 1.13, which has no fused
// kernel. The reference divides the (B, nh, T, T) scores, builds a bool
// mask and masked_fill's a copy, and autograd keeps and replays each of
// those passes; here the 1/sqrt(hs) scale and the causal mask ride inside
// one baddbmm (an additive -inf bias as its input), so the only T x T
// tensors are the scores and their softmax.
//
// Shapes: B batch, nh heads, T tokens, hs head size.

#include <ATen/core/Tensor.h>

namespace chat::model {

/// reference_attention(q, k, v, {}, dropout_p) up to float rounding:
/// softmax(q k^T / sqrt(hs) + causal mask) v, dropout on the weights.
at::Tensor causal_attention(const at::Tensor& q,  // (B, nh, T, hs)
                            const at::Tensor& k,  // (B, nh, T, hs)
                            const at::Tensor& v,  // (B, nh, T, hs)
                            double dropout_p);

}  // namespace chat::model
