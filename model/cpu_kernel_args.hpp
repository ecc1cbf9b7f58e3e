#pragma once
// The operands of the CPU kernels and their per-instruction-set entry
// points (plain pointers: the kernel files are compiled without LibTorch,
// once per instruction set; cpu_kernel_dispatch picks one at run time).

#include <cstdint>

namespace chat::model::detail {

/// y (M, N) = x (M, K) times weight (N, K) transposed, plus bias (N) or
/// nothing when bias is null; every array contiguous.
struct linear_rows {
  const float* x;
  const float* weight;
  const float* bias;
  float* y;
  int64_t M, N, K;
};

/// One new token per row: its key and value go into the cache at position
/// keys[b] - 1 of slot slots[b], then its query attends over positions
/// [0, keys[b]) of that slot. Work items are (row, head) pairs, b * heads + h.
struct decode_attention_rows {
  const float* qkv;     ///< (B, 3C): q, k, v of each row, heads of hs each
  float* cache_k;       ///< (S, heads, context, hs)
  float* cache_v;       ///< (S, heads, context, hs)
  const int64_t* slots; ///< (B)
  const int64_t* keys;  ///< (B) positions attended, the new one included
  float* out;           ///< (B, C), heads merged
  int64_t heads, head_size, context;
  float scale;          ///< 1 / sqrt(hs)
};

struct cpu_kernels {
  void (*linear_columns)(const linear_rows&, int64_t n_begin, int64_t n_end);
  void (*decode_attention)(const decode_attention_rows&, int64_t item_begin,
                           int64_t item_end);
};

extern const cpu_kernels avx2_kernels;
extern const cpu_kernels avx512_kernels;

/// The kernels for this CPU, or null where it lacks AVX2 and FMA.
const cpu_kernels* best_cpu_kernels();

}  // namespace chat::model::detail
