#pragma once
// The linear layers of inference on CPU. Decoding multiplies a handful of
// rows by each weight matrix; BLAS gemm is slow at that shape (a quarter of
// the memory bandwidth at one row, measured), so few-row fp32 products at
// inference go through a kernel that streams every weight once per call,
// split across cpu_thread_team. Everything else is at::linear.

#include <ATen/core/Tensor.h>

namespace chat::model {

/// x (..., K) times weight (N, K) transposed, plus bias (N) if defined:
/// at::linear's result (equal up to float summation order).
at::Tensor linear_product(const at::Tensor& x, const at::Tensor& weight,
                  const at::Tensor& bias);

/// Whether linear_product() takes the few-row kernel for these operands; false for
/// training (grad mode on), non-CPU or non-fp32 tensors, many rows, or a CPU
/// without AVX2+FMA.
bool row_kernel_applies(const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias);

}  // namespace chat::model
