#pragma once
// Activation checkpointing for LibTorch 1.13, which has no
// torch.utils.checkpoint in C++: a custom autograd function that runs a
// block without recording its graph and reruns it during backward.

#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace chat::model {

/// Returns fn(x) keeping only x; backward recomputes fn with the same
/// dropout RNG state and autocast setting, then backpropagates through it.
/// `params` are the tensors fn reads that need gradients.
at::Tensor recompute_in_backward(
    const std::function<at::Tensor(const at::Tensor&)>& fn, const at::Tensor& x,
    const std::vector<at::Tensor>& params);

}  // namespace chat::model
