#include "training/loss.hpp"

#include <torch/torch.h>

namespace chat::training {

namespace F = torch::nn::functional;

at::Tensor lm_loss(const at::Tensor& logits, const at::Tensor& targets,
                   const at::Tensor& mask) {
  const auto V = logits.size(-1);
  auto flat_logits = logits.reshape({-1, V}).to(torch::kFloat);  // (B*T, V)
  auto flat_targets = targets.reshape({-1});                      // (B*T)
  if (!mask.defined()) return F::cross_entropy(flat_logits, flat_targets);
  auto per_token = F::cross_entropy(
      flat_logits, flat_targets,
      F::CrossEntropyFuncOptions().reduction(torch::kNone));  // (B*T)
  auto weights = mask.reshape({-1}).to(torch::kFloat);         // (B*T)
  // Masked-out targets are multiplied by 0, so their values never matter.
  return (per_token * weights).sum() / weights.sum().clamp_min(1.0);
}

}  // namespace chat::training
