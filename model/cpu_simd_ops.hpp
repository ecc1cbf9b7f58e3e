#pragma once
// The SIMD flavours the CPU kernels are written over; each is included only
// by the file compiled for its instruction set. A flavour provides: reg,
// lanes, zero(), load(p), load_first(p, n) (the first n floats, the rest
// zero), load_bf16(p) (16-bit bfloat16s widened to fp32), store(p, v),
// store_first(p, n, v), splat(x), fma(a, b, acc), add(a, b), sub(a, b),
// mul(a, b), max(a, b), exp(reg) (glibc's vector expf: within 4 ulp), sum(reg)
// and largest(reg) (the lanes' sum and maximum).

#include <immintrin.h>

#include <cstdint>

// libmvec (glibc) under the x86-64 vector function ABI's names: expf over
// 16 lanes (AVX512) and 8 lanes (AVX2).
extern "C" {
#if defined(__AVX512F__)
__m512 _ZGVeN16v_expf(__m512 x);
#endif
#if defined(__AVX2__)
__m256 _ZGVdN8v_expf(__m256 x);
#endif
}

namespace chat::model::detail {

#if defined(__AVX__)
inline float sum_lanes(__m256 v) {
  const __m128 halves =
      _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

inline float largest_lane(__m256 v) {
  const __m128 halves =
      _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_max_ps(halves, _mm_movehl_ps(halves, halves));
  return _mm_cvtss_f32(_mm_max_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}
#endif

#if defined(__AVX512F__)
struct avx512_ops {
  using reg = __m512;
  static constexpr int lanes = 16;
  static __mmask16 first(int n) {
    return static_cast<__mmask16>((1u << n) - 1);
  }
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static reg load_first(const float* p, int n) {
    return _mm512_maskz_loadu_ps(first(n), p);
  }
  // A bf16 is the upper half of an fp32: widen, shift into place.
  static reg load_bf16(const std::uint16_t* p) {
    const __m256i half =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(
        0xFFFF, _mm512_maskz_cvtepu16_epi32(0xFFFF, half), 16));
  }
  static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static void store_first(float* p, int n, reg v) {
    _mm512_mask_storeu_ps(p, first(n), v);
  }
  static reg splat(float x) { return _mm512_set1_ps(x); }
  static reg fma(reg a, reg b, reg acc) { return _mm512_fmadd_ps(a, b, acc); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  static reg exp(reg v) { return _ZGVeN16v_expf(v); }
  // The zero-masked forms: the plain ones (and _mm512_reduce_add_ps) use
  // _mm512_undefined_*, which trips -Wuninitialized in GCC 12's header.
  static __m256 fold(reg v, __m512 (*op)(__m512, __m512)) {
    const reg swapped =
        _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2));
    const __m512d pairs = _mm512_castps_pd(op(v, swapped));
    return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, pairs, 0));
  }
  static float sum(reg v) { return sum_lanes(fold(v, add)); }
  static float largest(reg v) { return largest_lane(fold(v, max)); }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct avx2_ops {
  using reg = __m256;
  static constexpr int lanes = 8;
  static __m256i first(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static reg load_first(const float* p, int n) {
    return _mm256_maskload_ps(p, first(n));
  }
  static reg load_bf16(const std::uint16_t* p) {
    const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
  }
  static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static void store_first(float* p, int n, reg v) {
    _mm256_maskstore_ps(p, first(n), v);
  }
  static reg splat(float x) { return _mm256_set1_ps(x); }
  static reg fma(reg a, reg b, reg acc) { return _mm256_fmadd_ps(a, b, acc); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static reg exp(reg v) { return _ZGVdN8v_expf(v); }
  static float sum(reg v) { return sum_lanes(v); }
  static float largest(reg v) { return largest_lane(v); }
};
#endif

}  // namespace chat::model::detail
