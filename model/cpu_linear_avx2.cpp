// Compiled with -mavx2 -mfma; called only where the CPU has both.
#include <immintrin.h>

#include "model/cpu_linear_kernel.hpp"

namespace chat::model::detail {

namespace {

struct avx2 {
  using reg = __m256;
  static constexpr int lanes = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static reg load_first(const float* p, int n) {
    alignas(32) float buffer[lanes] = {};
    for (int i = 0; i < n; ++i) buffer[i] = p[i];
    return _mm256_load_ps(buffer);
  }
  static reg fma(reg a, reg b, reg acc) { return _mm256_fmadd_ps(a, b, acc); }
  static float sum(reg v) {
    const __m128 halves =
        _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
  }
};

}  // namespace

void linear_columns_avx2(const linear_rows& a, int64_t n_begin,
                         int64_t n_end) {
  linear_columns<avx2>(a, n_begin, n_end);
}

}  // namespace chat::model::detail
