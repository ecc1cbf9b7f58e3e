#pragma once

#include <ATen/core/Tensor.h>

namespace chat::training {

/// Mean next-token cross-entropy over the targets whose mask is 1 (over all
/// targets when mask is undefined), computed in fp32. Shapes: logits
/// (B, T, V), targets (B, T), mask (B, T). A batch with no counted target
/// gives 0 with no gradient.
at::Tensor lm_loss(const at::Tensor& logits, const at::Tensor& targets,
                   const at::Tensor& mask);

}  // namespace chat::training
