#include "model/causal_attention.hpp"

#include <cmath>
#include <limits>

#include <torch/torch.h>

namespace chat::model {

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, double dropout_p) {
  const auto B = q.size(0), nh = q.size(1), T = q.size(2), hs = q.size(3);
  auto q3 = q.reshape({B * nh, T, hs});  // (B*nh, T, hs)
  auto k3 = k.reshape({B * nh, T, hs});  // (B*nh, T, hs)
  auto v3 = v.reshape({B * nh, T, hs});  // (B*nh, T, hs)
  // 0 where a query may attend a key, -inf above the diagonal; softmax
  // turns the -inf into exact zeros, and their gradient is zero too.
  auto bias = torch::full({T, T}, -std::numeric_limits<float>::infinity(),
                          q.options().requires_grad(false))
                  .triu_(1);  // (T, T)
  auto att = torch::baddbmm(bias, q3, k3.transpose(1, 2), /*beta=*/1.0,
                            /*alpha=*/1.0 / std::sqrt(static_cast<double>(hs)));
  att = torch::softmax(att, -1);  // (B*nh, T, T)
  if (dropout_p > 0.0) att = torch::dropout(att, dropout_p, /*train=*/true);
  return torch::bmm(att, v3).view({B, nh, T, hs});  // (B, nh, T, hs)
}

}  // namespace chat::model
