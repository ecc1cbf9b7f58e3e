#include "model/cpu_linear.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "model/cpu_linear_rows.hpp"
#include "model/cpu_thread_team.hpp"

namespace chat::model {

namespace {

// Above this many rows gemm's blocking wins (bench/decode_bench: prefill).
constexpr int64_t max_kernel_rows = 64;

using columns_fn = void (*)(const detail::linear_rows&, int64_t, int64_t);

columns_fn best_kernel() {
#if defined(__x86_64__)
  static const columns_fn chosen = []() -> columns_fn {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return detail::linear_columns_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return detail::linear_columns_avx2;
    return nullptr;
  }();
  return chosen;
#else
  return nullptr;
#endif
}

bool is_cpu_float(const at::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == at::kFloat;
}

}  // namespace

bool row_kernel_applies(const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) {
  if (best_kernel() == nullptr || c10::GradMode::is_enabled()) return false;
  if (!is_cpu_float(x) || !is_cpu_float(weight) || weight.dim() != 2 ||
      !weight.is_contiguous() || x.dim() < 1 ||
      x.size(-1) != weight.size(1))
    return false;
  if (bias.defined() && (!is_cpu_float(bias) || bias.dim() != 1 ||
                         !bias.is_contiguous() ||
                         bias.size(0) != weight.size(0)))
    return false;
  const auto rows = x.numel() / std::max<int64_t>(1, x.size(-1));
  return rows >= 1 && rows <= max_kernel_rows;
}

at::Tensor linear_product(const at::Tensor& x, const at::Tensor& weight,
                  const at::Tensor& bias) {
  if (!row_kernel_applies(x, weight, bias))
    return at::linear(x, weight, bias);
  const auto K = weight.size(1), N = weight.size(0);
  const auto rows = x.reshape({-1, K}).contiguous();  // (M, K)
  auto y = at::empty({rows.size(0), N}, x.options());  // (M, N)
  const detail::linear_rows args{
      rows.data_ptr<float>(), weight.data_ptr<float>(),
      bias.defined() ? bias.data_ptr<float>() : nullptr, y.data_ptr<float>(),
      rows.size(0), N, K};
  const auto kernel = best_kernel();
  const auto column_blocks = (N + 3) / 4;
  cpu_thread_team::shared().run(column_blocks, [&](int64_t b, int64_t e) {
    kernel(args, b * 4, std::min(N, e * 4));
  });
  auto shape = x.sizes().vec();
  shape.back() = N;
  return y.view(shape);  // (..., N)
}

}  // namespace chat::model
