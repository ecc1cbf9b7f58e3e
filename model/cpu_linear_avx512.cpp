// Compiled with -mavx512f -mfma; called only where the CPU has AVX-512F.
#include <immintrin.h>

#include "model/cpu_linear_kernel.hpp"

namespace chat::model::detail {

namespace {

struct avx512 {
  using reg = __m512;
  static constexpr int lanes = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static reg load_first(const float* p, int n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  }
  static reg fma(reg a, reg b, reg acc) { return _mm512_fmadd_ps(a, b, acc); }
  static float sum(reg v) { return _mm512_reduce_add_ps(v); }
};

}  // namespace

void linear_columns_avx512(const linear_rows& a, int64_t n_begin,
                           int64_t n_end) {
  linear_columns<avx512>(a, n_begin, n_end);
}

}  // namespace chat::model::detail
