#include "model/cpu_ops.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>
#include <c10/core/GradMode.h>

#include "model/bf16_bits.hpp"
#include "model/cpu_gemm_kernel.hpp"
#include "model/cpu_kernel_args.hpp"
#include "model/cpu_thread_team.hpp"

namespace chat::model {

namespace {

// Products run in slabs of this many rows: the packed rows of one slab
// (cpu_gemm_kernel.hpp) stay in L2 while every weight panel passes them.
constexpr int64_t slab_rows = 64;

// From this many rows the packed kernel beats the few-row one (best of 100
// products of 3072 x 768 weights, 2 threads, reference VM: 16 rows 1.1-1.2x,
// 32 and 64 rows 1.3x, 12 rows even, 8 rows 0.65x).
constexpr int64_t min_gemm_rows = 16;

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

int64_t team_size() { return cpu_thread_team::shared().size(); }

bool is_cpu_float(const at::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == at::kFloat;
}

bool kernels_apply() {
  return detail::best_cpu_kernels() != nullptr &&
         !c10::GradMode::is_enabled();
}

/// Whether the operands fit the kernels: CPU, fp32 x and bias, fp32 or
/// bf16 weight (N, K) contiguous, x (..., K) with at least one row.
bool operands_fit(const at::Tensor& x, const at::Tensor& weight,
                  const at::Tensor& bias) {
  const bool bf16_weights = weight.scalar_type() == at::kBFloat16;
  if (!is_cpu_float(x) || !weight.device().is_cpu() ||
      !(bf16_weights || weight.scalar_type() == at::kFloat) ||
      weight.dim() != 2 || !weight.is_contiguous() || x.dim() < 1 ||
      x.size(-1) != weight.size(1) || x.size(-1) < 1)
    return false;
  if (bias.defined() && (!is_cpu_float(bias) || bias.dim() != 1 ||
                         !bias.is_contiguous() ||
                         bias.size(0) != weight.size(0)))
    return false;
  return x.numel() >= x.size(-1);  // at least one row
}

/// fp32 rows (M, K): element (r, k) at data[r * row_stride + k * k_stride].
struct row_matrix {
  const float* data;
  int64_t M, K, row_stride, k_stride;

  /// Rows [first, first + count).
  row_matrix slab(int64_t first, int64_t count) const {
    return {data + first * row_stride, count, K, row_stride, k_stride};
  }
  bool contiguous() const { return k_stride == 1 && row_stride == K; }
};

/// The rows packed K-major into this thread's buffer, rows padded to the
/// gemm kernel's blocks; split across the team like the product.
const float* pack_rows(const row_matrix& x, int64_t padded, int64_t work) {
  thread_local std::vector<float> packed;
  packed.resize(static_cast<size_t>(padded * x.K));
  // The team's threads see their own thread_locals: pass the pointer.
  float* out = packed.data();
  constexpr int64_t k_block = 16;
  run_parts(work, (x.K + k_block - 1) / k_block, [&](int64_t b, int64_t e) {
    detail::gemm_pack_rows(x.data, x.M, x.row_stride, x.k_stride, out,
                           padded, b * k_block, std::min(x.K, e * k_block));
  });
  return out;
}

/// y (M, N) = rows (M, K) · weightᵀ + bias in slabs of slab_rows rows, each
/// split by output columns across the team; fp32 weights take the packed
/// kernel from min_gemm_rows rows (cpu_gemm_kernel.hpp: not bf16 ones), and
/// for every slab of rows that are not contiguous (the few-row kernel
/// reads contiguous rows only).
template <class Weight>
void run_linear(const row_matrix& rows, const Weight* weight,
                const at::Tensor& bias, at::Tensor& y,
                void (*few_rows)(const detail::linear_rows_of<Weight>&,
                                 int64_t, int64_t)) {
  const auto* kernels = detail::best_cpu_kernels();
  const auto K = rows.K, N = y.size(1);
  const float* bias_data = bias.defined() ? bias.data_ptr<float>() : nullptr;
  for (int64_t m = 0; m < rows.M; m += slab_rows) {
    const auto slab = rows.slab(m, std::min(slab_rows, rows.M - m));
    const auto M = slab.M;
    float* out = y.data_ptr<float>() + m * N;
    const auto work = M * N * K;
    if constexpr (std::is_same_v<Weight, float>) {
      if (M >= min_gemm_rows || !slab.contiguous()) {
        const auto block = kernels->gemm_rows_per_block;
        const auto padded = (M + block - 1) / block * block;
        const detail::gemm_rows args{pack_rows(slab, padded, work), padded,
                                     weight, bias_data, out, M, N, K};
        const auto width = kernels->gemm_columns;
        run_parts(work, (N + width - 1) / width, [&](int64_t b, int64_t e) {
          kernels->gemm_panels(args, b, e);
        });
        continue;
      }
    }
    const detail::linear_rows_of<Weight> args{slab.data, weight, bias_data,
                                              out, M, N, K};
    // One row (batch-1 decode): one contiguous share of the columns per
    // thread, so that each thread reads its weights as one sequential
    // stream; products of the 100M shape's matrices then read 1.1x faster
    // than in parts claimed as the threads go (reference VM). From 2 rows
    // on, the claimed parts (4 columns each) measured as fast or faster.
    const int64_t blocks = (N + 3) / 4;
    const int64_t parts = M == 1 ? team_size() : blocks;
    run_parts(work, parts, [&](int64_t b, int64_t e) {
      few_rows(args, blocks * b / parts * 4,
               std::min(N, blocks * e / parts * 4));
    });
  }
}

/// x's rows as they lie in memory when the packed kernel can read them so:
/// a transposed contiguous matrix (training's dyᵀ and the LM head's
/// gradientᵀ) is then packed from where it is, not first copied back into
/// rows and then packed K-major again. Otherwise its contiguous rows.
row_matrix rows_of(const at::Tensor& x, const at::Tensor& weight,
                   at::Tensor& contiguous_rows) {
  const auto K = weight.size(1);
  if (weight.scalar_type() == at::kFloat && x.dim() == 2 &&
      x.size(0) >= min_gemm_rows && K > 1 && x.stride(0) == 1 &&
      x.stride(1) == x.size(0))
    return {x.data_ptr<float>(), x.size(0), K, 1, x.size(0)};
  contiguous_rows = x.reshape({-1, K}).contiguous();  // (M, K)
  return {contiguous_rows.data_ptr<float>(), contiguous_rows.size(0), K, K,
          1};
}

/// linear_product on the kernels; the operands fit them.
at::Tensor kernel_product(const at::Tensor& x, const at::Tensor& weight,
                          const at::Tensor& bias) {
  const auto N = weight.size(0);
  at::Tensor contiguous_rows;
  const auto rows = rows_of(x, weight, contiguous_rows);  // (M, K)
  auto y = at::empty({rows.M, N}, x.options());  // (M, N)
  const auto* kernels = detail::best_cpu_kernels();
  if (weight.scalar_type() == at::kBFloat16)
    run_linear(rows,
               reinterpret_cast<const uint16_t*>(
                   weight.data_ptr<at::BFloat16>()),
               bias, y, kernels->linear_columns_bf16);
  else
    run_linear(rows, weight.data_ptr<float>(), bias, y,
               kernels->linear_columns);
  auto shape = x.sizes().vec();
  shape.back() = N;
  return y.view(shape);  // (..., N)
}

/// A linear layer for training on the kernels: forward and both backward
/// products (dx = dy · weight, dweight = dyᵀ · x) run as kernel products,
/// 1.5-1.75x OpenBLAS's AVX2 gemm at the 100M shape's training sizes on
/// the reference VM.
struct kernel_linear_function
    : torch::autograd::Function<kernel_linear_function> {
  // Two forms: autograd's inputs must all be defined tensors.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx,
                            const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["has_bias"] = true;
    return kernel_product(x, weight, bias);
  }
  static at::Tensor forward(torch::autograd::AutogradContext* ctx,
                            const at::Tensor& x, const at::Tensor& weight) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["has_bias"] = false;
    return kernel_product(x, weight, {});
  }

  static torch::autograd::variable_list backward(
      torch::autograd::AutogradContext* ctx,
      torch::autograd::variable_list grads) {
    c10::AutoGradMode no_grad(false);
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto N = weight.size(0), K = weight.size(1);
    const auto dy = grads[0].reshape({-1, N}).contiguous();  // (M, N)
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    at::Tensor dx, dweight, dbias;
    if (ctx->needs_input_grad(0))
      dx = kernel_product(dy, weight.t().contiguous(), {})
               .view(x.sizes());  // (..., K)
    if (ctx->needs_input_grad(1))
      dweight = kernel_product(dy.t(), x.reshape({-1, K}).t().contiguous(),
                               {});  // (N, K)
    if (!has_bias) return {dx, dweight};
    if (ctx->needs_input_grad(2)) dbias = dy.sum(0);  // (N)
    return {dx, dweight, dbias};
  }
};

/// Training through the kernels: fp32 weights without autocast (CUDA's
/// mixed precision never comes here: the operands are on the CPU).
bool training_kernel_applies(const at::Tensor& x, const at::Tensor& weight,
                             const at::Tensor& bias) {
  return detail::best_cpu_kernels() != nullptr &&
         c10::GradMode::is_enabled() && weight.scalar_type() == at::kFloat &&
         !at::autocast::is_cpu_enabled() && operands_fit(x, weight, bias);
}

}  // namespace

bool row_kernel_applies(const at::Tensor& x, const at::Tensor& weight,
                        const at::Tensor& bias) {
  return (kernels_apply() && operands_fit(x, weight, bias)) ||
         training_kernel_applies(x, weight, bias);
}

at::Tensor linear_product(const at::Tensor& x, const at::Tensor& weight,
                          const at::Tensor& bias) {
  if (training_kernel_applies(x, weight, bias))
    return bias.defined() ? kernel_linear_function::apply(x, weight, bias)
                          : kernel_linear_function::apply(x, weight);
  if (!kernels_apply() || !operands_fit(x, weight, bias))
    return at::linear(x, weight.to(x.scalar_type()), bias);
  return kernel_product(x, weight, bias);
}

bool cached_attention_applies(const at::Tensor& qkv, const at::Tensor& cache_k,
                              const at::Tensor& cache_v) {
  const auto cache_type = cache_k.scalar_type();
  return kernels_apply() && is_cpu_float(qkv) && qkv.is_contiguous() &&
         cache_k.device().is_cpu() &&
         (cache_type == at::kFloat || cache_type == at::kBFloat16) &&
         cache_v.device().is_cpu() && cache_v.scalar_type() == cache_type &&
         cache_k.is_contiguous() && cache_v.is_contiguous() &&
         cache_k.sizes() == cache_v.sizes();
}

namespace {

/// cached_attention on caches of Cache (float or bf16 bits), the query
/// rows' slots and key counts checked by the caller.
template <class Cache>
at::Tensor attend_over(
    const at::Tensor& qkv, Cache* k_data, Cache* v_data,
    const std::vector<int64_t>& row_slots, const std::vector<int64_t>& row_keys,
    int64_t heads, int64_t hs, int64_t context,
    void (*row_kernel)(const detail::cached_attention_rows_of<Cache>&, int64_t,
                       int64_t),
    void (*span_kernel)(const detail::cached_attention_rows_of<Cache>&,
                        int64_t, int64_t)) {
  const auto B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3;
  const float* rows = qkv.data_ptr<float>();
  int64_t attended = 0;
  for (auto n : row_keys) attended += n;
  const auto work = 2 * attended * C;
  // Several tokens of one slot see each other's keys: all are written
  // before any is read. One token per row writes its own in the kernel.
  if (T > 1)
    run_parts(work, B * T, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        for (int64_t h = 0; h < heads; ++h) {
          const auto position =
              ((row_slots[r] * heads + h) * context + row_keys[r] - 1) * hs;
          const float* row = rows + r * 3 * C + h * hs;
          detail::store_row(k_data + position, row + C, hs);
          detail::store_row(v_data + position, row + 2 * C, hs);
        }
    });
  auto out = at::empty({B, T, C}, qkv.options());  // (B, T, C)
  const detail::cached_attention_rows_of<Cache> args{
      rows, k_data, v_data, row_slots.data(), row_keys.data(),
      out.data_ptr<float>(), heads, hs, context,
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(hs))), T == 1,
      T};
  const auto kernel = T == 1 ? row_kernel : span_kernel;
  run_parts(work, B * heads, [&](int64_t b, int64_t e) {
    kernel(args, b, e);
  });
  return out;
}

}  // namespace

at::Tensor cached_attention(const at::Tensor& qkv, at::Tensor& cache_k,
                            at::Tensor& cache_v,
                            const std::vector<int64_t>& slots,
                            const std::vector<int64_t>& keys) {
  const auto B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3;
  const auto S = cache_k.size(0), heads = cache_k.size(1),
             context = cache_k.size(2), hs = cache_k.size(3);
  // The kernel writes through these indices: check them here, not trust.
  bool valid = qkv.dim() == 3 && T >= 1 && C == heads * hs &&
               static_cast<int64_t>(slots.size()) == B &&
               static_cast<int64_t>(keys.size()) == B;
  for (int64_t b = 0; valid && b < B; ++b)
    valid = slots[b] >= 0 && slots[b] < S && keys[b] >= T &&
            keys[b] <= context;
  if (!valid)
    throw std::invalid_argument(
        "cached_attention: qkv, slots or key counts do not fit the cache");
  // Query row b * T + t: slot slots[b], positions up to its own.
  std::vector<int64_t> row_slots(B * T), row_keys(B * T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      row_slots[b * T + t] = slots[b];
      row_keys[b * T + t] = keys[b] - T + t + 1;
    }
  const auto* kernels = detail::best_cpu_kernels();
  if (cache_k.scalar_type() == at::kBFloat16) {
    auto bits = [](at::Tensor& t) {
      return reinterpret_cast<uint16_t*>(t.data_ptr<at::BFloat16>());
    };
    return attend_over(qkv, bits(cache_k), bits(cache_v), row_slots,
                       row_keys, heads, hs, context,
                       kernels->cached_attention_bf16,
                       kernels->cached_attention_spans_bf16);
  }
  return attend_over(qkv, cache_k.data_ptr<float>(), cache_v.data_ptr<float>(),
                     row_slots, row_keys, heads, hs, context,
                     kernels->cached_attention, kernels->cached_attention_spans);
}

}  // namespace chat::model
