#pragma once
// The tied LM head and its cross-entropy in one op, a chunk of rows at a
// time. At the 100M shape the full logits of a 4 x 512 batch are
// 4 * 512 * 32000 floats = 262 MB, and the plain path (gpt::forward then
// lm_loss) writes and reads that and as much again for log-softmax and for
// each of its gradients. Here at most max_chunk_logits logits exist at once:
// forward computes each chunk's loss and, when a gradient is wanted, that
// chunk's gradients too (the loss is a scalar, so backward only scales them).
//
// Shapes: B batch, T tokens, C d_model, V vocab.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace chat::training {

/// lm_loss(features times weight transposed, targets, mask) up to float
/// summation order, in value and gradients: the mean next-token
/// cross-entropy over the targets whose mask is 1 (all when mask is
/// undefined). features (B, T, C) is the final LayerNorm's output, weight
/// (V, C) the tied embedding, targets (B, T) int64, mask (B, T) float.
at::Tensor lm_head_loss(const at::Tensor& features, const at::Tensor& weight,
                        const at::Tensor& targets, const at::Tensor& mask,
                        int64_t max_chunk_logits = int64_t{1} << 23);

}  // namespace chat::training
