#pragma once
// Attention of new tokens over the KV cache, written once over a SIMD
// flavour V (see cpu_simd_ops.hpp) and compiled once per instruction set.
// Per query and head this is a few dot products and weighted sums; doing
// it in place, split over the thread team, avoids the dozen small LibTorch
// ops (copies of the cached prefix, masks, BLAS calls on small matrices)
// the general path costs per layer, all on one thread.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model/cpu_kernel_args.hpp"

namespace chat::model::detail {

template <class V>
float dot(const float* a, const float* b, int64_t n) {
  auto acc = V::zero();
  int64_t i = 0;
  for (; i + V::lanes <= n; i += V::lanes)
    acc = V::fma(V::load(a + i), V::load(b + i), acc);
  if (i < n) {
    const auto rest = static_cast<int>(n - i);
    acc = V::fma(V::load_first(a + i, rest), V::load_first(b + i, rest), acc);
  }
  return V::sum(acc);
}

/// out += weight * row, over n floats.
template <class V>
void add_scaled(float* out, const float* row, float weight, int64_t n) {
  const auto w = V::splat(weight);
  int64_t i = 0;
  for (; i + V::lanes <= n; i += V::lanes)
    V::store(out + i, V::fma(w, V::load(row + i), V::load(out + i)));
  if (i < n) {
    const auto rest = static_cast<int>(n - i);
    V::store_first(out + i, rest,
                   V::fma(w, V::load_first(row + i, rest),
                          V::load_first(out + i, rest)));
  }
}

template <class V>
void cached_attention_items(const cached_attention_rows& a, int64_t begin,
                            int64_t end) {
  const int64_t hs = a.head_size, C = a.heads * hs;
  std::vector<float> scores;
  for (int64_t item = begin; item < end; ++item) {
    const int64_t r = item / a.heads, h = item % a.heads;
    const int64_t n = a.keys[r];
    const float* row = a.qkv + r * 3 * C;
    const int64_t head_base = ((a.slots[r] * a.heads + h) * a.context) * hs;
    float* keys = a.cache_k + head_base;
    float* values = a.cache_v + head_base;
    if (a.write_new) {
      std::memcpy(keys + (n - 1) * hs, row + C + h * hs, hs * sizeof(float));
      std::memcpy(values + (n - 1) * hs, row + 2 * C + h * hs,
                  hs * sizeof(float));
    }

    const float* q = row + h * hs;
    scores.resize(static_cast<size_t>(n));
    float top = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) {
      scores[j] = dot<V>(q, keys + j * hs, hs) * a.scale;
      top = std::max(top, scores[j]);
    }
    float total = 0;
    for (int64_t j = 0; j < n; ++j) {
      scores[j] = std::exp(scores[j] - top);
      total += scores[j];
    }
    float* out = a.out + r * C + h * hs;
    std::fill(out, out + hs, 0.0f);
    for (int64_t j = 0; j < n; ++j)
      add_scaled<V>(out, values + j * hs, scores[j] / total, hs);
  }
}

}  // namespace chat::model::detail
