#pragma once
// Scaled dot-product attention: the manual reference and the dispatching
// entry point that uses the fused kernel where the LibTorch version has one.
//
// Shapes: B batch, nh heads, Tq queries, Tk keys, hs head size.

#include <ATen/core/Tensor.h>

namespace chat::model {

/// softmax(q k^T / sqrt(hs), masked) v with dropout on the weights.
/// `keep` is a bool tensor broadcastable to (B, nh, Tq, Tk), true where a
/// query may attend a key; undefined means causal with Tq == Tk.
at::Tensor reference_attention(const at::Tensor& q,     // (B, nh, Tq, hs)
                               const at::Tensor& k,     // (B, nh, Tk, hs)
                               const at::Tensor& v,     // (B, nh, Tk, hs)
                               const at::Tensor& keep,  // (B|1, 1, Tq, Tk)
                               double dropout_p);

/// Same contract as reference_attention; uses
/// at::scaled_dot_product_attention on LibTorch >= 2.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k,
                     const at::Tensor& v, const at::Tensor& keep,
                     double dropout_p);

/// True when attention() runs a fused kernel rather than the reference.
bool attention_is_fused();

}  // namespace chat::model
