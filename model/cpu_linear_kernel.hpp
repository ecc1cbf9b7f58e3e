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

template <class V, int MB, int NB>
inline void linear_block(const float* x, const float* w, const float* bias,
                         float* y, int64_t N, int64_t K) {
  typename V::reg acc[MB][NB];
  for (int i = 0; i < MB; ++i)
    for (int j = 0; j < NB; ++j) acc[i][j] = V::zero();
  int64_t k = 0;
  for (; k + V::lanes <= K; k += V::lanes) {
    typename V::reg wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = V::load(w + j * K + k);
    for (int i = 0; i < MB; ++i) {
      const auto xv = V::load(x + i * K + k);
      for (int j = 0; j < NB; ++j) acc[i][j] = V::fma(wv[j], xv, acc[i][j]);
    }
  }
  if (k < K) {
    const auto rest = static_cast<int>(K - k);
    typename V::reg wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = V::load_first(w + j * K + k, rest);
    for (int i = 0; i < MB; ++i) {
      const auto xv = V::load_first(x + i * K + k, rest);
      for (int j = 0; j < NB; ++j) acc[i][j] = V::fma(wv[j], xv, acc[i][j]);
    }
  }
  for (int i = 0; i < MB; ++i)
    for (int j = 0; j < NB; ++j)
      y[i * N + j] = V::sum(acc[i][j]) + (bias ? bias[j] : 0.0f);
}

template <class V, int NB>
inline void linear_column_block(const linear_rows& a, int64_t n) {
  const float* w = a.weight + n * a.K;
  const float* bias = a.bias ? a.bias + n : nullptr;
  for (int64_t m = 0; m < a.M; m += 4) {
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

/// Output columns [n_begin, n_end) of every row.
template <class V>
void linear_columns(const linear_rows& a, int64_t n_begin, int64_t n_end) {
  int64_t n = n_begin;
  for (; n + 4 <= n_end; n += 4) linear_column_block<V, 4>(a, n);
  for (; n < n_end; ++n) linear_column_block<V, 1>(a, n);
}

}  // namespace chat::model::detail
