#pragma once
// Attention of new tokens over the KV cache, written once over a SIMD
// flavour V (see cpu_simd_ops.hpp) and compiled once per instruction set.
// Per query and head this is a few dot products and weighted sums; doing
// it in place, split over the thread team, avoids the dozen small LibTorch
// ops (copies of the cached prefix, masks, BLAS calls on small matrices)
// the general path costs per layer, all on one thread.
//
// One new token per row (decode) reads each cached key once: a dot product
// per key, four keys at a time. A prompt chunk's queries share their slot's
// keys, so there the keys are transposed a block of V::lanes at a time and
// each query's scores for the block come from hs multiply-adds into one
// register, several queries at once (a small matrix product, bound by
// arithmetic rather than by latency). The cache holds fp32 or bf16, which
// is widened as it is read.

#include <algorithm>
#include <limits>
#include <vector>

#include "model/bf16_bits.hpp"
#include "model/cpu_kernel_args.hpp"

namespace chat::model::detail {

/// Turns a row of n scores into exp(score - max) in place; returns their sum.
template <class V>
float exponentiate(float* row, int64_t n) {
  auto top_lanes = V::splat(-std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + V::lanes <= n; j += V::lanes)
    top_lanes = V::max(top_lanes, V::load(row + j));
  float top = V::largest(top_lanes);
  for (int64_t i = j; i < n; ++i) top = std::max(top, row[i]);
  const auto shift = V::splat(top);
  auto total_lanes = V::zero();
  for (j = 0; j + V::lanes <= n; j += V::lanes) {
    const auto e = V::exp(V::sub(V::load(row + j), shift));
    V::store(row + j, e);
    total_lanes = V::add(total_lanes, e);
  }
  float total = V::sum(total_lanes);
  if (j < n) {
    const auto rest = static_cast<int>(n - j);
    V::store_first(row + j, rest,
                   V::exp(V::sub(V::load_first(row + j, rest), shift)));
    for (; j < n; ++j) total += row[j];
  }
  return total;
}

/// The floats [c, c + width) of p, width V::lanes or fewer (a head's last
/// part), the other lanes zero; bf16 ones widened.
template <class V>
typename V::reg load_part(const float* p, int64_t c, int width) {
  return width == V::lanes ? V::load(p + c) : V::load_first(p + c, width);
}

template <class V>
typename V::reg load_part(const uint16_t* p, int64_t c, int width) {
  if (width == V::lanes) return V::load_bf16(p + c);
  float part[V::lanes];
  for (int i = 0; i < width; ++i) part[i] = widen(p[c + i]);
  return V::load_first(part, width);
}

/// Stores v's first `width` lanes at p + c.
template <class V>
void store_part(float* p, int64_t c, int width, typename V::reg v) {
  if (width == V::lanes)
    V::store(p + c, v);
  else
    V::store_first(p + c, width, v);
}

/// scores[j] = (q · keys[j]) * scale for keys [0, n), rows of hs floats;
/// four keys at a time, whose independent sums hide the multiply-add
/// latency.
template <class V, class Cache>
void score_keys(const float* q, const Cache* keys, int64_t n, int64_t hs,
                float scale, float* scores) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    typename V::reg acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
    for (int64_t c = 0; c < hs; c += V::lanes) {
      const auto width = static_cast<int>(std::min<int64_t>(V::lanes, hs - c));
      const auto qc = load_part<V>(q, c, width);
      for (int64_t i = 0; i < 4; ++i)
        acc[i] = V::fma(qc, load_part<V>(keys + (j + i) * hs, c, width),
                        acc[i]);
    }
    for (int64_t i = 0; i < 4; ++i) scores[j + i] = V::sum(acc[i]) * scale;
  }
  for (; j < n; ++j) {
    auto acc = V::zero();
    for (int64_t c = 0; c < hs; c += V::lanes) {
      const auto width = static_cast<int>(std::min<int64_t>(V::lanes, hs - c));
      acc = V::fma(load_part<V>(q, c, width),
                   load_part<V>(keys + j * hs, c, width), acc);
    }
    scores[j] = V::sum(acc) * scale;
  }
}

/// out = (weights · values[0..n)) * scale over hs floats; four keys'
/// products accumulate apart.
template <class V, class Cache>
void weigh_rows(const float* weights, const Cache* values, int64_t n,
                int64_t hs, float scale, float* out) {
  for (int64_t c = 0; c < hs; c += V::lanes) {
    const auto width = static_cast<int>(std::min<int64_t>(V::lanes, hs - c));
    typename V::reg acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
      for (int64_t i = 0; i < 4; ++i)
        acc[i] = V::fma(V::splat(weights[j + i]),
                        load_part<V>(values + (j + i) * hs, c, width), acc[i]);
    for (; j < n; ++j)
      acc[0] = V::fma(V::splat(weights[j]),
                      load_part<V>(values + j * hs, c, width), acc[0]);
    store_part<V>(out, c, width,
                  V::mul(V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])),
                         V::splat(scale)));
  }
}

template <class V, class Cache>
void cached_attention_items(const cached_attention_rows_of<Cache>& a,
                            int64_t begin, int64_t end) {
  const int64_t hs = a.head_size, C = a.heads * hs;
  thread_local std::vector<float> scores;
  for (int64_t item = begin; item < end; ++item) {
    const int64_t r = item / a.heads, h = item % a.heads;
    const int64_t n = a.keys[r];
    const float* row = a.qkv + r * 3 * C;
    const int64_t head_base = ((a.slots[r] * a.heads + h) * a.context) * hs;
    Cache* keys = a.cache_k + head_base;
    Cache* values = a.cache_v + head_base;
    if (a.write_new) {
      store_row(keys + (n - 1) * hs, row + C + h * hs, hs);
      store_row(values + (n - 1) * hs, row + 2 * C + h * hs, hs);
    }
    scores.resize(static_cast<size_t>(n));
    score_keys<V>(row + h * hs, keys, n, hs, a.scale, scores.data());
    const float total = exponentiate<V>(scores.data(), n);
    weigh_rows<V>(scores.data(), values, n, hs, 1.0f / total,
                  a.out + r * C + h * hs);
  }
}

/// Queries a span kernel pass handles at once: independent accumulators,
/// enough to hide the multiply-add latency, few enough for AVX2's registers.
constexpr int64_t span_queries = 8;

/// Scores (scaled) of queries q[0..span_queries) against the key_tile's
/// V::lanes keys, (hs, lanes) transposed; rows kept < `kept` are stored.
template <class V>
void score_tile(const float* const* q, const float* key_tile, int64_t hs,
                float scale, float* const* scores, int64_t kept) {
  typename V::reg acc[span_queries];
  for (auto& a : acc) a = V::zero();
  for (int64_t d = 0; d < hs; ++d) {
    const auto k = V::load(key_tile + d * V::lanes);
    for (int64_t i = 0; i < span_queries; ++i)
      acc[i] = V::fma(V::splat(q[i][d]), k, acc[i]);
  }
  for (int64_t i = 0; i < kept; ++i)
    V::store(scores[i], V::mul(acc[i], V::splat(scale)));
}

/// out[i] = (weights[i] · values[0..n_i)) * scale[i] over the head's hs
/// columns, for span_queries queries at once; rows kept < `kept` stored.
/// Weights past a query's n_i are zero, so all run to the largest n.
template <class V, class Cache>
void weigh_values(float* const* weights, const Cache* values, int64_t n,
                  int64_t hs, const float* scale, float* const* out,
                  int64_t kept) {
  for (int64_t c = 0; c < hs; c += V::lanes) {
    const auto width = static_cast<int>(std::min<int64_t>(V::lanes, hs - c));
    typename V::reg acc[span_queries];
    for (auto& a : acc) a = V::zero();
    for (int64_t j = 0; j < n; ++j) {
      const auto v = load_part<V>(values + j * hs, c, width);
      for (int64_t i = 0; i < span_queries; ++i)
        acc[i] = V::fma(V::splat(weights[i][j]), v, acc[i]);
    }
    for (int64_t i = 0; i < kept; ++i)
      store_part<V>(out[i], c, width, V::mul(acc[i], V::splat(scale[i])));
  }
}

/// Items are (span, head) pairs, s * heads + h: span s is rows
/// [s * T, s * T + T) (T = a.span) at one slot's consecutive positions, so
/// query t attends positions [0, keys[s * T] + t). Their keys and values
/// are in the cache already.
template <class V, class Cache>
void cached_attention_spans(const cached_attention_rows_of<Cache>& a,
                            int64_t begin, int64_t end) {
  constexpr int64_t L = V::lanes, G = span_queries;
  const int64_t hs = a.head_size, C = a.heads * hs, T = a.span;
  thread_local std::vector<float> key_tile, weights;
  key_tile.resize(static_cast<size_t>(hs * L));
  std::vector<float> inverse_totals(static_cast<size_t>(T));
  for (int64_t item = begin; item < end; ++item) {
    const int64_t s = item / a.heads, h = item % a.heads, r0 = s * T;
    const int64_t first = a.keys[r0], last = first + T - 1;
    const int64_t stride = (last + L - 1) / L * L;
    weights.resize(static_cast<size_t>(T * stride));
    const int64_t head_base = ((a.slots[r0] * a.heads + h) * a.context) * hs;
    const Cache* keys = a.cache_k + head_base;
    const Cache* values = a.cache_v + head_base;
    // Queries [t0, t0 + G); a pass past the span's end repeats its last
    // query and keeps nothing.
    const float* q[G];
    float* weight_rows[G];
    float* out[G];
    auto take = [&](int64_t t0, int64_t column) {
      for (int64_t i = 0; i < G; ++i) {
        const auto t = std::min(t0 + i, T - 1);
        q[i] = a.qkv + (r0 + t) * 3 * C + h * hs;
        weight_rows[i] = weights.data() + t * stride + column;
        out[i] = a.out + (r0 + t) * C + h * hs;
      }
      return std::min(G, T - t0);
    };
    for (int64_t j0 = 0; j0 < last; j0 += L) {
      const int64_t width = std::min(L, last - j0);
      for (int64_t d = 0; d < hs; ++d)
        for (int64_t jj = 0; jj < L; ++jj)
          key_tile[d * L + jj] =
              jj < width ? widen(keys[(j0 + jj) * hs + d]) : 0.0f;
      // Query t sees key j0 from t = j0 - first + 1 on.
      for (int64_t t0 = std::max<int64_t>(0, j0 - first + 1); t0 < T; t0 += G) {
        const auto kept = take(t0, j0);
        score_tile<V>(q, key_tile.data(), hs, a.scale, weight_rows, kept);
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      float* row = weights.data() + t * stride;
      inverse_totals[t] = 1.0f / exponentiate<V>(row, first + t);
      std::fill(row + first + t, row + last, 0.0f);
    }
    for (int64_t t0 = 0; t0 < T; t0 += G) {
      const auto kept = take(t0, 0);
      weigh_values<V>(weight_rows, values, first + t0 + kept - 1, hs,
                      inverse_totals.data() + t0, out, kept);
    }
  }
}

}  // namespace chat::model::detail
