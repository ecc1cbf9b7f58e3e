#pragma once
// LibTorch entry points of the CPU inference kernels (cpu_*_kernel.hpp).
//
// Decoding multiplies a handful of rows by each weight matrix; BLAS gemm is
// slow at that shape (a quarter of the memory bandwidth at one row,
// measured), so few-row products at inference go through a kernel that
// streams every weight once per call, split across cpu_thread_team. With
// fp32 weights a packed kernel takes over from 16 rows on (prefill chunks,
// big decode batches), faster than OpenBLAS as the environment configures
// it (AVX2 only); bf16 weights stay on the first kernel.
// Attention of one new token per row is a kernel too. Training's linear
// layers run on the same kernels, backward included; everything else takes
// LibTorch's own ops.

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace chat::model {

/// x (..., K) times weight (N, K) transposed, plus bias (N) if defined:
/// at::linear's result (equal up to float summation order). The weight may
/// be bf16 under an fp32 x (bf16 weights on CPU): the product is then x
/// times the bf16 values, computed in fp32.
at::Tensor linear_product(const at::Tensor& x, const at::Tensor& weight,
                          const at::Tensor& bias);

/// Whether linear_product() takes the CPU kernels for these operands; false
/// for non-CPU or non-fp32 tensors (bf16 weights excepted at inference),
/// autocast, or a CPU without AVX2+FMA. In grad mode (training) the
/// kernels run forward and backward: both backward products are kernel
/// products too.
bool row_kernel_applies(const at::Tensor& x, const at::Tensor& weight,
                        const at::Tensor& bias);

/// Whether cached_attention() can run: contiguous CPU tensors, qkv fp32 and
/// the caches both fp32 or both bf16, at inference on a CPU with AVX2+FMA.
bool cached_attention_applies(const at::Tensor& qkv, const at::Tensor& cache_k,
                              const at::Tensor& cache_v);

/// T new tokens per row (decode: 1; a prompt's chunk: more): qkv (B, T, 3C)
/// holds their queries, keys and values. Writes row b's keys and values
/// (rounded to nearest even into a bf16 cache) at
/// positions [keys[b] - T, keys[b]) of cache slot slots[b] (caches
/// (S, nh, L, hs)), then returns each query's causal attention over that
/// slot's positions up to its own, heads merged: (B, T, C).
at::Tensor cached_attention(const at::Tensor& qkv, at::Tensor& cache_k,
                            at::Tensor& cache_v,
                            const std::vector<int64_t>& slots,
                            const std::vector<int64_t>& keys);

}  // namespace chat::model
