#pragma once
// The operands of the CPU kernels and their per-instruction-set entry
// points (plain pointers: the kernel files are compiled without LibTorch,
// once per instruction set; cpu_kernel_dispatch picks one at run time).

#include <cstdint>

namespace chat::model::detail {

/// y (M, N) = x (M, K) · weight (N, K)ᵀ + bias; weights are fp32 (float)
/// or bf16 (the upper half of an fp32, as uint16_t).
template <class Weight>
struct linear_rows_of {
  const float* x;
  const Weight* weight;
  const float* bias;
  float* y;
  int64_t M, N, K;
};
using linear_rows = linear_rows_of<float>;
using linear_rows_bf16 = linear_rows_of<uint16_t>;

/// The same product for the many-row kernel (cpu_gemm_kernel.hpp), fp32
/// weights: x comes packed K-major, xp (K, rows_padded), rows_padded a whole
/// number of the kernel's row blocks.
struct gemm_rows {
  const float* xp;
  int64_t rows_padded;
  const float* weight;
  const float* bias;
  float* y;
  int64_t M, N, K;
};

/// New tokens' causal attention over their cache slots: the key and value
/// of query row r go into the cache at position keys[r] - 1 of slot
/// slots[r] (unless the caller wrote them), then its query attends over
/// positions [0, keys[r]) of that slot. The row kernel's work items are
/// (query row, head) pairs, r * heads + h; the span kernel's are (span,
/// head) pairs, a span being `span` consecutive rows of one slot. The
/// cache holds fp32 (float) or bf16 (uint16_t, rounded to nearest even).
template <class Cache>
struct cached_attention_rows_of {
  const float* qkv;     ///< (R, 3C): q, k, v of each row, heads of hs each
  Cache* cache_k;       ///< (S, heads, context, hs)
  Cache* cache_v;       ///< (S, heads, context, hs)
  const int64_t* slots; ///< (R)
  const int64_t* keys;  ///< (R) positions attended, the row's own included
  float* out;           ///< (R, C), heads merged
  int64_t heads, head_size, context;
  float scale;          ///< 1 / sqrt(hs)
  /// False when the keys and values are in the cache already: rows of one
  /// slot attend to each other's, which no item may write while another
  /// reads.
  bool write_new;
  /// Rows per span (the span kernel): a prompt chunk's T tokens, at
  /// consecutive positions of one slot, written to the cache already.
  int64_t span;
};
using cached_attention_rows = cached_attention_rows_of<float>;
using cached_attention_rows_bf16 = cached_attention_rows_of<uint16_t>;

struct cpu_kernels {
  void (*linear_columns)(const linear_rows&, int64_t n_begin, int64_t n_end);
  void (*linear_columns_bf16)(const linear_rows_bf16&, int64_t n_begin,
                              int64_t n_end);
  /// Output columns of panels [begin, end), gemm_columns each.
  void (*gemm_panels)(const gemm_rows&, int64_t panel_begin,
                      int64_t panel_end);
  int64_t gemm_rows_per_block;  ///< rows_padded is a multiple of this
  int64_t gemm_columns;         ///< columns of a panel
  void (*cached_attention)(const cached_attention_rows&, int64_t item_begin,
                           int64_t item_end);
  void (*cached_attention_spans)(const cached_attention_rows&,
                                 int64_t item_begin, int64_t item_end);
  void (*cached_attention_bf16)(const cached_attention_rows_bf16&,
                                int64_t item_begin, int64_t item_end);
  void (*cached_attention_spans_bf16)(const cached_attention_rows_bf16&,
                                      int64_t item_begin, int64_t item_end);
};

extern const cpu_kernels avx2_kernels;
extern const cpu_kernels avx512_kernels;

/// The kernels for this CPU, or null where it lacks AVX2 and FMA.
const cpu_kernels* best_cpu_kernels();

}  // namespace chat::model::detail
