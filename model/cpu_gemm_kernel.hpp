#pragma once
// The many-row linear kernel (prefill chunks, large decode batches), written
// once over a SIMD flavour V (see cpu_simd_ops.hpp) and compiled once per
// instruction set.
//
// The few-row kernel (cpu_linear_kernel.hpp) takes dot products along K and
// pays a horizontal sum per output and two loads per two multiply-adds.
// Here the rows come packed K-major (xp[k][row], padded to whole row
// blocks), so one vector holds a lane per row: a tile of 2 vectors of rows
// times NR weight rows keeps 2 x NR accumulators in registers and costs 2
// vector loads and NR broadcasts per 2 x NR multiply-adds, with no
// horizontal sums. On the reference VM (Zen 5, 2 cores) it reaches 85% of
// the FMA peak at 64 rows, 1.3x the few-row kernel. fp32 weights only:
// bf16 ones would have to be widened panel by panel, and the few-row
// kernel, which widens as it reads, measured faster with them even at 64
// rows (prefill 1155-1166 against 1088-1105 tok/s).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "model/cpu_kernel_args.hpp"

namespace chat::model::detail {

/// Weight rows per tile: 2 x NR accumulators, 2 row vectors and a broadcast
/// must fit the register file (32 vectors with AVX-512, 16 with AVX2).
template <class V>
constexpr int gemm_tile_columns = V::lanes == 16 ? 12 : 6;

/// Rows [r, r + RV lanes) of xp times NR weight rows (row stride K) into
/// tile[j][row] (2 lanes per j). RV is 2, or 1 for a last block of at most
/// one vector of rows, which would otherwise be half padding.
template <class V, int RV, int NR>
inline void gemm_tile(const float* xp, int64_t rows_padded, const float* w,
                      int64_t K, float* tile) {
  typename V::reg acc[RV][NR];
  for (int v = 0; v < RV; ++v)
    for (int j = 0; j < NR; ++j) acc[v][j] = V::zero();
  for (int64_t k = 0; k < K; ++k) {
    typename V::reg x[RV];
    for (int v = 0; v < RV; ++v)
      x[v] = V::load(xp + k * rows_padded + v * V::lanes);
    for (int j = 0; j < NR; ++j) {
      const auto b = V::splat(w[j * K + k]);
      for (int v = 0; v < RV; ++v) acc[v][j] = V::fma(x[v], b, acc[v][j]);
    }
  }
  for (int v = 0; v < RV; ++v)
    for (int j = 0; j < NR; ++j)
      V::store(tile + j * 2 * V::lanes + v * V::lanes, acc[v][j]);
}

/// The panel's weights, rows of stride K: in place when the panel is
/// whole, else zero-padded into `buffer`.
inline const float* panel_weights(const float* w, int64_t columns, int NR,
                                  int64_t K, std::vector<float>& buffer) {
  if (columns == NR) return w;
  buffer.assign(static_cast<size_t>(NR * K), 0.0f);
  std::copy(w, w + columns * K, buffer.begin());
  return buffer.data();
}

/// Output columns of panels [panel_begin, panel_end) (NR columns each, the
/// last one possibly fewer) of every row.
template <class V>
void gemm_panels(const gemm_rows& a, int64_t panel_begin, int64_t panel_end) {
  constexpr int NR = gemm_tile_columns<V>;
  constexpr int MR = 2 * V::lanes;
  thread_local std::vector<float> padded;
  float tile[NR * MR];
  for (int64_t p = panel_begin; p < panel_end; ++p) {
    const int64_t n = p * NR;
    const int64_t columns = std::min<int64_t>(NR, a.N - n);
    const float* w =
        panel_weights(a.weight + n * a.K, columns, NR, a.K, padded);
    for (int64_t r = 0; r < a.M; r += MR) {
      const int64_t rows = std::min<int64_t>(MR, a.M - r);
      if (rows > V::lanes)
        gemm_tile<V, 2, NR>(a.xp + r, a.rows_padded, w, a.K, tile);
      else
        gemm_tile<V, 1, NR>(a.xp + r, a.rows_padded, w, a.K, tile);
      for (int64_t i = 0; i < rows; ++i) {
        float* y = a.y + (r + i) * a.N + n;
        for (int64_t j = 0; j < columns; ++j)
          y[j] = tile[j * MR + i] + (a.bias ? a.bias[n + j] : 0.0f);
      }
    }
  }
}

/// xp[k][row] = x[row][k] for k in [k_begin, k_end): the rows packed K-major;
/// the padding rows are zero. x[row][k] lies at x + row * row_stride +
/// k * k_stride: rows of a contiguous (M, K) matrix (row_stride K,
/// k_stride 1) or columns of a contiguous (K, M') one (row_stride 1,
/// k_stride M'), which are K-major already and copy in runs.
inline void gemm_pack_rows(const float* x, int64_t M, int64_t row_stride,
                           int64_t k_stride, float* xp, int64_t rows_padded,
                           int64_t k_begin, int64_t k_end) {
  if (k_stride == 1) {
    constexpr int64_t block = 16;  // one cache line of each row at a time
    for (int64_t k0 = k_begin; k0 < k_end; k0 += block) {
      const int64_t k1 = std::min(k_end, k0 + block);
      for (int64_t r = 0; r < M; ++r)
        for (int64_t k = k0; k < k1; ++k)
          xp[k * rows_padded + r] = x[r * row_stride + k];
    }
  } else {
    for (int64_t k = k_begin; k < k_end; ++k)
      for (int64_t r = 0; r < M; ++r)
        xp[k * rows_padded + r] = x[r * row_stride + k * k_stride];
  }
  for (int64_t k = k_begin; k < k_end; ++k)
    std::fill(xp + k * rows_padded + M, xp + (k + 1) * rows_padded, 0.0f);
}

}  // namespace chat::model::detail
