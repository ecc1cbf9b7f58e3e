#include "training/lm_head_loss.hpp"

#include <algorithm>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "model/cpu_ops.hpp"

namespace chat::training {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The loss and, when asked for, its gradients for features and weight.
struct loss_and_grads {
  at::Tensor loss;           ///< () fp32
  at::Tensor grad_features;  ///< (N, C), undefined without gradients
  at::Tensor grad_weight;    ///< (V, C), undefined without gradients
};

/// sum_i row_weights[i] * cross_entropy(features[i] weight^T, targets[i]),
/// max_chunk_logits logits at a time. N rows.
loss_and_grads chunked_loss(const at::Tensor& features,     // (N, C)
                            const at::Tensor& weight,       // (V, C)
                            const at::Tensor& targets,      // (N)
                            const at::Tensor& row_weights,  // (N) fp32
                            int64_t max_chunk_logits, bool with_grads) {
  const auto N = features.size(0), V = weight.size(0);
  const auto rows = std::max<int64_t>(1, max_chunk_logits / V);
  loss_and_grads out;
  out.loss = torch::zeros({}, features.options().dtype(torch::kFloat));
  // On the CPU the three products run on model/cpu_ops' kernels, which
  // take "x · wᵀ" with w contiguous: d features needs weightᵀ, copied once.
  const bool cpu = features.device().is_cpu() && !at::autocast::is_enabled();
  at::Tensor weight_t;
  if (with_grads) {
    out.grad_features = torch::empty_like(features);  // (N, C)
    out.grad_weight = torch::zeros_like(weight);      // (V, C)
    if (cpu) weight_t = weight.t().contiguous();      // (C, V)
  }
  for (int64_t r = 0; r < N; r += rows) {
    const auto n = std::min(rows, N - r);
    auto x = features.narrow(0, r, n);                  // (n, C)
    auto t = targets.narrow(0, r, n).view({n, 1});      // (n, 1)
    auto w = row_weights.narrow(0, r, n).view({n, 1});  // (n, 1)
    auto logits = (cpu ? model::linear_product(x, weight, {})
                       : torch::mm(x, weight.t()))
                      .to(torch::kFloat);  // (n, V)
    auto lse = torch::logsumexp(logits, 1, /*keepdim=*/true);  // (n, 1)
    out.loss += ((lse - logits.gather(1, t)) * w).sum();
    if (!with_grads) continue;
    // d loss / d logits = w * (softmax - one_hot(target)), in place.
    auto g = logits.sub_(lse).exp_();                   // (n, V)
    g.scatter_add_(1, t, -torch::ones_like(w));
    g.mul_(w);
    if (cpu) {
      out.grad_features.narrow(0, r, n).copy_(
          model::linear_product(g, weight_t, {}));  // (n, C)
      out.grad_weight.add_(model::linear_product(
          g.t(), x.t().contiguous(), {}));  // (V, C)
      continue;
    }
    out.grad_features.narrow(0, r, n).copy_(torch::mm(g, weight));  // (n, C)
    // Under autocast mm runs in the low precision as the plain head's
    // backward would; addmm_ (in place, fp32) saves a (V, C) temporary.
    if (at::autocast::is_enabled())
      out.grad_weight.add_(torch::mm(g.t(), x));  // (V, C)
    else
      out.grad_weight.addmm_(g.t(), x);  // (V, C)
  }
  return out;
}

struct lm_head_loss_function
    : torch::autograd::Function<lm_head_loss_function> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& features,
                            const at::Tensor& weight, const at::Tensor& targets,
                            const at::Tensor& row_weights,
                            int64_t max_chunk_logits) {
    auto out = chunked_loss(features, weight, targets, row_weights,
                            max_chunk_logits, /*with_grads=*/true);
    ctx->save_for_backward({out.grad_features, out.grad_weight});
    return out.loss;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const auto& scale = grad_out[0];  // () d final / d loss
    return {saved[0] * scale, saved[1] * scale, {}, {}, {}};
  }
};

}  // namespace

at::Tensor lm_head_loss(const at::Tensor& features, const at::Tensor& weight,
                        const at::Tensor& targets, const at::Tensor& mask,
                        int64_t max_chunk_logits) {
  const auto C = features.size(-1);
  auto flat_features = features.reshape({-1, C}).contiguous();  // (N, C)
  auto flat_targets = targets.reshape({-1});                     // (N)
  const auto N = flat_targets.size(0);
  // Each row's share of the mean: 1/N, or mask/count of counted targets
  // (lm_loss's rule: no counted target gives 0).
  auto row_weights =
      mask.defined()
          ? mask.reshape({-1}).to(torch::kFloat) /
                mask.sum().to(torch::kFloat).clamp_min(1.0)
          : torch::full({N}, 1.0 / static_cast<double>(N),
                        flat_features.options().dtype(torch::kFloat));  // (N)
  const bool with_grads =
      torch::GradMode::is_enabled() &&
      (flat_features.requires_grad() || weight.requires_grad());
  if (!with_grads)
    return chunked_loss(flat_features, weight, flat_targets, row_weights,
                        max_chunk_logits, false)
        .loss;
  return lm_head_loss_function::apply(flat_features, weight, flat_targets,
                                      row_weights.detach(), max_chunk_logits);
}

}  // namespace chat::training
