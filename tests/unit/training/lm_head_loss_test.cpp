#include "training/lm_head_loss.hpp"

#include <torch/torch.h>

#include "model/gpt.hpp"
#include "training/loss.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat;
using training::lm_head_loss;
using training::lm_loss;

namespace {

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("the fused LM head loss equals logits then lm_loss, with gradients",
          "[unit]") {
  torch::manual_seed(1337);
  const int64_t B = 2, T = 7, C = 16, V = 37;
  auto features = torch::randn({B, T, C});
  auto weight = torch::randn({V, C}) * 0.5;
  auto targets = torch::randint(V, {B, T}, torch::kLong);
  auto mask = (torch::rand({B, T}) < 0.6).to(torch::kFloat);
  // 5 rows per chunk: three chunks, the last one short.
  for (int64_t chunk_logits : {int64_t{1} << 23, 5 * V}) {
    for (bool masked : {false, true}) {
      INFO("chunk logits " << chunk_logits << ", masked " << masked);
      const auto m = masked ? mask : at::Tensor();
      auto ref_x = features.clone().requires_grad_(true);
      auto ref_w = weight.clone().requires_grad_(true);
      auto ref = lm_loss(torch::matmul(ref_x, ref_w.t()), targets, m);
      auto x = features.clone().requires_grad_(true);
      auto w = weight.clone().requires_grad_(true);
      auto loss = lm_head_loss(x, w, targets, m, chunk_logits);
      CHECK(std::abs(loss.item<double>() - ref.item<double>()) <= 1e-5);
      // A scaled loss (gradient accumulation divides it) scales the grads.
      (ref * 0.25).backward();
      (loss * 0.25).backward();
      CHECK(max_diff(x.grad(), ref_x.grad()) <= 1e-5);
      CHECK(max_diff(w.grad(), ref_w.grad()) <= 1e-5);

      torch::NoGradGuard no_grad;  // evaluation: the same value
      CHECK(std::abs(lm_head_loss(x, w, targets, m, chunk_logits)
                         .item<double>() - ref.item<double>()) <= 1e-5);
    }
  }
}

TEST_CASE("the fused LM head loss with no counted target is 0 with no gradient",
          "[unit]") {
  torch::manual_seed(1337);
  auto x = torch::randn({2, 3, 8}).requires_grad_(true);
  auto w = torch::randn({11, 8}).requires_grad_(true);
  auto loss = lm_head_loss(x, w, torch::randint(11, {2, 3}, torch::kLong),
                           torch::zeros({2, 3}));
  loss.backward();
  CHECK(loss.item<double>() == 0.0);
  CHECK(x.grad().abs().sum().item<double>() == 0.0);
  CHECK(w.grad().abs().sum().item<double>() == 0.0);
}

TEST_CASE("a model's features through the fused loss train it as its logits "
          "would", "[unit]") {
  model::gpt_config config;
  config.vocab_size = 53;
  config.context = 12;
  config.n_layer = 2;
  config.n_head = 2;
  config.d_model = 16;
  torch::manual_seed(1337);
  model::gpt m(config);
  m->train();
  auto idx = torch::randint(53, {3, 12}, torch::kLong);
  auto targets = torch::randint(53, {3, 12}, torch::kLong);

  auto ref = lm_loss(m->forward(idx), targets, {});
  ref.backward();
  std::vector<at::Tensor> ref_grads;
  for (const auto& p : m->parameters()) ref_grads.push_back(p.grad().clone());
  m->zero_grad();

  auto loss = lm_head_loss(m->features(idx), m->wte->weight, targets, {});
  loss.backward();
  CHECK(std::abs(loss.item<double>() - ref.item<double>()) <= 1e-5);
  const auto params = m->parameters();
  for (size_t i = 0; i < params.size(); ++i)
    CHECK(max_diff(params[i].grad(), ref_grads[i]) <= 1e-5);
}
