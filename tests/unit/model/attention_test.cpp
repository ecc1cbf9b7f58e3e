#include "model/attention.hpp"

#include <cmath>

#include <torch/torch.h>

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;

namespace {

/// Attention written as loops over scores: the slowest, plainest form.
at::Tensor naive_attention(const at::Tensor& q, const at::Tensor& k,
                           const at::Tensor& v) {
  const auto T = q.size(2);
  auto out = torch::zeros_like(q);  // (B, nh, T, hs)
  for (int64_t i = 0; i < T; ++i) {
    auto qi = q.narrow(2, i, 1);                 // (B, nh, 1, hs)
    auto ks = k.narrow(2, 0, i + 1);             // (B, nh, i+1, hs)
    auto w = torch::matmul(qi, ks.transpose(-2, -1)) /
             std::sqrt(static_cast<double>(q.size(3)));  // (B, nh, 1, i+1)
    out.narrow(2, i, 1).copy_(
        torch::matmul(w.softmax(-1), v.narrow(2, 0, i + 1)));
  }
  return out;
}

}  // namespace

TEST_CASE("reference attention matches the naive causal definition",
          "[unit]") {
  torch::manual_seed(1337);
  auto q = torch::randn({2, 3, 9, 8});
  auto k = torch::randn({2, 3, 9, 8});
  auto v = torch::randn({2, 3, 9, 8});
  auto ref = reference_attention(q, k, v, {}, 0.0);
  CHECK((ref - naive_attention(q, k, v)).abs().max().item<double>() <= 1e-5);
}

TEST_CASE("fused attention equals the reference, causal and masked",
          "[unit]") {
  torch::manual_seed(1337);
  auto q = torch::randn({2, 4, 6, 16});
  auto k = torch::randn({2, 4, 6, 16});
  auto v = torch::randn({2, 4, 6, 16});
  auto ref = reference_attention(q, k, v, {}, 0.0);
  CHECK((attention(q, k, v, {}, 0.0) - ref).abs().max().item<double>() <=
        1e-5);

  // An explicit per-row mask over a longer key range (as the KV cache uses).
  auto keys = torch::randn({2, 4, 10, 16});
  auto values = torch::randn({2, 4, 10, 16});
  auto lengths = torch::tensor({4, 10}).view({2, 1, 1, 1});
  auto keep = torch::arange(10).view({1, 1, 1, 10}) < lengths;  // (2,1,1,10)
  keep = keep.expand({2, 1, 6, 10});
  auto masked_ref = reference_attention(q, keys, values, keep, 0.0);
  CHECK((attention(q, keys, values, keep, 0.0) - masked_ref)
            .abs().max().item<double>() <= 1e-5);
  // Row 0 sees only its first 4 keys.
  auto row0 = reference_attention(q.narrow(0, 0, 1), keys.narrow(0, 0, 1)
                                  .narrow(2, 0, 4), values.narrow(0, 0, 1)
                                  .narrow(2, 0, 4),
                                  torch::ones({1, 1, 6, 4}, torch::kBool),
                                  0.0);
  CHECK((masked_ref.narrow(0, 0, 1) - row0).abs().max().item<double>() <=
        1e-6);
  INFO("fused kernel in use: " << attention_is_fused());
}
