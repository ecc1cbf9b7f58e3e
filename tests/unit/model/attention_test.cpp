#include "model/attention.hpp"
#include "model/causal_attention.hpp"

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

TEST_CASE("causal attention equals the reference in values and gradients",
          "[unit]") {
  torch::manual_seed(1337);
  // Heads split out of one (B, T, 3, nh, hs) projection, as the model does:
  // strided views, not contiguous tensors.
  auto qkv = torch::randn({2, 7, 3, 4, 8});
  auto inputs = [&] {
    auto leaf = qkv.clone().requires_grad_(true);
    return std::make_pair(leaf, std::vector<at::Tensor>{
                                    leaf.select(2, 0).transpose(1, 2),
                                    leaf.select(2, 1).transpose(1, 2),
                                    leaf.select(2, 2).transpose(1, 2)});
  };
  auto upstream = torch::randn({2, 4, 7, 8});
  for (double p : {0.0, 0.25}) {
    auto [ref_leaf, ref_in] = inputs();
    auto [leaf, in] = inputs();
    torch::manual_seed(7);  // the same dropout draws for both
    auto ref = reference_attention(ref_in[0], ref_in[1], ref_in[2], {}, p);
    torch::manual_seed(7);
    auto out = causal_attention(in[0], in[1], in[2], p);
    INFO("dropout " << p);
    CHECK((out - ref).abs().max().item<double>() <= 1e-5);
    (ref * upstream).sum().backward();
    (out * upstream).sum().backward();
    CHECK((leaf.grad() - ref_leaf.grad()).abs().max().item<double>() <= 1e-5);
  }
}
