#pragma once
// The operands of one few-row linear product and the per-instruction-set
// entry points (plain pointers: these files are compiled without LibTorch).

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

void linear_columns_avx2(const linear_rows& a, int64_t n_begin, int64_t n_end);
void linear_columns_avx512(const linear_rows& a, int64_t n_begin,
                           int64_t n_end);

}  // namespace chat::model::detail
