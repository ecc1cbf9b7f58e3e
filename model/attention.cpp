#include "model/attention.hpp"

#include <cmath>
#include <limits>

#include <torch/torch.h>
#include <torch/version.h>

#include "model/causal_attention.hpp"

namespace chat::model {

at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k,
                               const at::Tensor& v, const at::Tensor& keep,
                               double dropout_p) {
  const auto hs = q.size(-1);
  auto att = torch::matmul(q, k.transpose(-2, -1)) /
             std::sqrt(static_cast<double>(hs));  // (B, nh, Tq, Tk)
  at::Tensor mask = keep;
  if (!mask.defined()) {
    const auto T = q.size(-2);
    mask = torch::ones({T, T}, q.options().dtype(torch::kBool))
               .tril();  // (T, T)
  }
  att = att.masked_fill(mask.logical_not(),
                        -std::numeric_limits<float>::infinity());
  att = torch::softmax(att, -1);  // (B, nh, Tq, Tk)
  if (dropout_p > 0.0) att = torch::dropout(att, dropout_p, /*train=*/true);
  return torch::matmul(att, v);  // (B, nh, Tq, hs)
}

#if TORCH_VERSION_MAJOR >= 2

at::Tensor attention(const at::Tensor& q, const at::Tensor& k,
                     const at::Tensor& v, const at::Tensor& keep,
                     double dropout_p) {
  if (!keep.defined())
    return at::scaled_dot_product_attention(q, k, v, {}, dropout_p,
                                            /*is_causal=*/true);
  return at::scaled_dot_product_attention(q, k, v, keep, dropout_p, false);
}

bool attention_is_fused() { return true; }

#else

// LibTorch 1.13 has no public fused attention: training's causal case takes
// causal_attention (fewer passes over the scores), masked ones the reference.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k,
                     const at::Tensor& v, const at::Tensor& keep,
                     double dropout_p) {
  if (!keep.defined()) return causal_attention(q, k, v, dropout_p);
  return reference_attention(q, k, v, keep, dropout_p);
}

bool attention_is_fused() { return false; }

#endif

}  // namespace chat::model
