#pragma once
// bf16 as the CPU kernels store it: the upper 16 bits of an fp32, rounded
// to nearest even as c10::BFloat16 rounds (NaN stays NaN). Written out here
// because the kernel files are compiled without LibTorch.

#include <cstdint>
#include <cstring>

namespace chat::model::detail {

inline float widen(float x) { return x; }

inline float widen(uint16_t x) {
  const uint32_t bits = static_cast<uint32_t>(x) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t to_bf16(float x) {
  if (x != x) return 0x7FC0;  // NaN
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits += 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

/// to[0..n) = from[0..n); into a bf16 row (uint16_t) each value rounded.
inline void store_row(float* to, const float* from, int64_t n) {
  std::memcpy(to, from, static_cast<size_t>(n) * sizeof(float));
}

inline void store_row(uint16_t* to, const float* from, int64_t n) {
  for (int64_t i = 0; i < n; ++i) to[i] = to_bf16(from[i]);
}

}  // namespace chat::model::detail
