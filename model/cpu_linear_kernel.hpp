#pragma once
// The few-row linear kernel, written once over a SIMD flavour V (see
// cpu_simd_ops.hpp) and compiled once per instruction set.
//
// Up to 4 input rows times 4 weight rows at a time: 16 accumulators stay in
// registers, each 4-row weight block is read from memory once and from L1
// for the next group of input rows.

#include <algorithm>
#include <cstdint>

#include "model/cpu_kernel_args.hpp"

namespace chat::model::detail {

/// One vector of weights from w: fp32, or bf16 widened to fp32.
template <class V>
inline typename V::reg load_weights(const float* w) {
  return V::load(w);
}
template <class V>
inline typename V::reg load_weights(const uint16_t* w) {
  return V::load_bf16(w);
}

/// The first n < lanes weights of w, the rest zero.
template <class V>
inline typename V::reg load_first_weights(const float* w, int n) {
  return V::load_first(w, n);
}
template <class V>
inline typename V::reg load_first_weights(const uint16_t* w, int n) {
  uint16_t rest[V::lanes] = {};  // a model's widths rarely come here
  std::copy(w, w + n, rest);
  return V::load_bf16(rest);
}

template <class V, int MB, int NB, class Weight>
inline void linear_block(const float* x, const Weight* w, const float* bias,
                         float* y, int64_t N, int64_t K) {
  typename V::reg acc[MB][NB];
  for (int i = 0; i < MB; ++i)
    for (int j = 0; j < NB; ++j) acc[i][j] = V::zero();
  int64_t k = 0;
  for (; k + V::lanes <= K; k += V::lanes) {
    typename V::reg wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = load_weights<V>(w + j * K + k);
    for (int i = 0; i < MB; ++i) {
      const auto xv = V::load(x + i * K + k);
      for (int j = 0; j < NB; ++j) acc[i][j] = V::fma(wv[j], xv, acc[i][j]);
    }
  }
  if (k < K) {
    const auto rest = static_cast<int>(K - k);
    typename V::reg wv[NB];
    for (int j = 0; j < NB; ++j)
      wv[j] = load_first_weights<V>(w + j * K + k, rest);
    for (int i = 0; i < MB; ++i) {
      const auto xv = V::load_first(x + i * K + k, rest);
      for (int j = 0; j < NB; ++j) acc[i][j] = V::fma(wv[j], xv, acc[i][j]);
    }
  }
  for (int i = 0; i < MB; ++i)
    for (int j = 0; j < NB; ++j)
      y[i * N + j] = V::sum(acc[i][j]) + (bias ? bias[j] : 0.0f);
}

/// Columns [n, n + NB) of every row. While it works it prefetches the
/// `next_bytes` of weights at `next` (the next block), spread over its row
/// groups, so the next block's first group does not wait on memory.
template <class V, int NB, class Weight>
inline void linear_column_block(const linear_rows_of<Weight>& a, int64_t n,
                                const char* next, int64_t next_bytes) {
  const Weight* w = a.weight + n * a.K;
  const float* bias = a.bias ? a.bias + n : nullptr;
  constexpr int64_t line = 64;
  const int64_t groups = (a.M + 3) / 4;
  const int64_t per_group = (next_bytes / line + groups) / groups;
  int64_t prefetched = 0;
  for (int64_t m = 0; m < a.M; m += 4) {
    for (int64_t i = 0; i < per_group && prefetched < next_bytes;
         ++i, prefetched += line)
      __builtin_prefetch(next + prefetched);
    const float* x = a.x + m * a.K;
    float* y = a.y + m * a.N + n;
    switch (std::min<int64_t>(4, a.M - m)) {
      case 1: linear_block<V, 1, NB>(x, w, bias, y, a.N, a.K); break;
      case 2: linear_block<V, 2, NB>(x, w, bias, y, a.N, a.K); break;
      case 3: linear_block<V, 3, NB>(x, w, bias, y, a.N, a.K); break;
      default: linear_block<V, 4, NB>(x, w, bias, y, a.N, a.K); break;
    }
  }
}

/// x (K) · w (K), reading w front to back with four accumulators.
template <class V, class Weight>
inline float dot_row(const float* x, const Weight* w, int64_t K) {
  constexpr int unroll = 4;
  typename V::reg acc[unroll];
  for (auto& a : acc) a = V::zero();
  int64_t k = 0;
  for (; k + unroll * V::lanes <= K; k += unroll * V::lanes)
    for (int u = 0; u < unroll; ++u)
      acc[u] = V::fma(load_weights<V>(w + k + u * V::lanes),
                      V::load(x + k + u * V::lanes), acc[u]);
  for (; k + V::lanes <= K; k += V::lanes)
    acc[0] = V::fma(load_weights<V>(w + k), V::load(x + k), acc[0]);
  if (k < K) {
    const auto rest = static_cast<int>(K - k);
    acc[1] = V::fma(load_first_weights<V>(w + k, rest),
                    V::load_first(x + k, rest), acc[1]);
  }
  return V::sum(V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])));
}

/// Output columns [n_begin, n_end) of every row.
template <class V, class Weight>
void linear_columns(const linear_rows_of<Weight>& a, int64_t n_begin,
                    int64_t n_end) {
  if (a.M == 1) {
    // One row (batch-1 decode) is bound by the weights' read alone: read
    // front to back, one row at a time and without software prefetch, the
    // 100M shape's matrices went 1.1x faster than in the 4-row blocks
    // below (reference VM); from 4 rows on the blocks win.
    for (int64_t n = n_begin; n < n_end; ++n)
      a.y[n] = dot_row<V>(a.x, a.weight + n * a.K, a.K) +
               (a.bias ? a.bias[n] : 0.0f);
    return;
  }
  const auto block_bytes = static_cast<int64_t>(4 * a.K * sizeof(Weight));
  auto next_block = [&](int64_t next) {
    return reinterpret_cast<const char*>(a.weight + next * a.K);
  };
  int64_t n = n_begin;
  for (; n + 4 <= n_end; n += 4)
    linear_column_block<V, 4>(a, n, next_block(n + 4),
                              n + 8 <= n_end ? block_bytes : 0);
  for (; n < n_end; ++n) linear_column_block<V, 1>(a, n, nullptr, 0);
}

}  // namespace chat::model::detail
