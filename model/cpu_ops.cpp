#include "model/cpu_ops.hpp"

#include <cmath>
#include <functional>
#include <stdexcept>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "model/cpu_kernel_args.hpp"
#include "model/cpu_thread_team.hpp"

namespace chat::model {

namespace {

// Above this many rows gemm's blocking wins (bench/decode_bench: prefill).
constexpr int64_t max_kernel_rows = 64;

// Below this many multiply-adds a call costs less than the team's hand-off,
// and spinning helpers would only take a core from chatd (tiny models).
constexpr int64_t min_parallel_work = int64_t{1} << 17;

/// body over [0, count): split across the shared team when `work` is worth
/// it, on this thread otherwise.
void run_parts(int64_t work, int64_t count,
               const std::function<void(int64_t, int64_t)>& body) {
  if (work >= min_parallel_work)
    cpu_thread_team::shared().run(count, body);
  else if (count > 0)
    body(0, count);
}

bool is_cpu_float(const at::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == at::kFloat;
}

bool kernels_apply() {
  return detail::best_cpu_kernels() != nullptr &&
         !c10::GradMode::is_enabled();
}

}  // namespace

bool row_kernel_applies(const at::Tensor& x, const at::Tensor& weight,
                        const at::Tensor& bias) {
  if (!kernels_apply()) return false;
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
  const auto kernel = detail::best_cpu_kernels()->linear_columns;
  const auto column_blocks = (N + 3) / 4;
  run_parts(rows.size(0) * N * K, column_blocks, [&](int64_t b, int64_t e) {
    kernel(args, b * 4, std::min(N, e * 4));
  });
  auto shape = x.sizes().vec();
  shape.back() = N;
  return y.view(shape);  // (..., N)
}

bool decode_attention_applies(const at::Tensor& qkv, const at::Tensor& cache_k,
                              const at::Tensor& cache_v) {
  return kernels_apply() && is_cpu_float(qkv) && qkv.is_contiguous() &&
         is_cpu_float(cache_k) && cache_k.is_contiguous() &&
         is_cpu_float(cache_v) && cache_v.is_contiguous() &&
         cache_k.sizes() == cache_v.sizes();
}

at::Tensor decode_attention(const at::Tensor& qkv, at::Tensor& cache_k,
                            at::Tensor& cache_v,
                            const std::vector<int64_t>& slots,
                            const std::vector<int64_t>& keys) {
  const auto B = qkv.size(0), C = qkv.size(2) / 3;
  const auto S = cache_k.size(0), heads = cache_k.size(1),
             context = cache_k.size(2), hs = cache_k.size(3);
  // The kernel writes through these indices: check them here, not trust.
  bool valid = qkv.dim() == 3 && qkv.size(1) == 1 && C == heads * hs &&
               static_cast<int64_t>(slots.size()) == B &&
               static_cast<int64_t>(keys.size()) == B;
  for (int64_t b = 0; valid && b < B; ++b)
    valid = slots[b] >= 0 && slots[b] < S && keys[b] >= 1 &&
            keys[b] <= context;
  if (!valid)
    throw std::invalid_argument(
        "decode_attention: qkv, slots or key counts do not fit the cache");
  auto out = at::empty({B, 1, C}, qkv.options());  // (B, 1, C)
  const detail::decode_attention_rows args{
      qkv.data_ptr<float>(), cache_k.data_ptr<float>(),
      cache_v.data_ptr<float>(), slots.data(), keys.data(),
      out.data_ptr<float>(), heads, hs, context,
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(hs)))};
  const auto kernel = detail::best_cpu_kernels()->decode_attention;
  int64_t attended = 0;
  for (auto n : keys) attended += n;
  run_parts(2 * attended * C, B * heads, [&](int64_t b, int64_t e) {
    kernel(args, b, e);
  });
  return out;
}

}  // namespace chat::model
