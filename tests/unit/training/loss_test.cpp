#include "training/loss.hpp"

#include <torch/torch.h>

#include "training/grad_scaler.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::training;

TEST_CASE("the fine-tune loss ignores targets whose mask is 0", "[unit]") {
  torch::manual_seed(1337);
  auto logits = torch::randn({2, 6, 11});
  auto targets = torch::randint(11, {2, 6}, torch::kLong);
  auto mask = torch::tensor({1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0},
                            torch::kFloat).view({2, 6});
  const auto loss = lm_loss(logits, targets, mask).item<double>();

  auto edited = targets.clone();
  edited.masked_fill_(mask == 0, 3);  // change every masked-out target
  CHECK(lm_loss(logits, edited, mask).item<double>() == loss);
  auto noisy = logits.clone();
  noisy.index_put_({mask == 0}, torch::randn({6, 11}));  // and its logits
  CHECK(lm_loss(noisy, targets, mask).item<double>() == loss);

  // It is the mean over the counted targets.
  auto per_token = torch::nn::functional::cross_entropy(
      logits.view({-1, 11}), targets.view({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  CHECK(loss == Approx((per_token * mask.view({-1})).sum().item<double>() / 6));

  // No counted target: zero loss, zero gradient.
  auto x = logits.clone().requires_grad_(true);
  auto none = lm_loss(x, targets, torch::zeros({2, 6}));
  none.backward();
  CHECK(none.item<double>() == 0.0);
  CHECK(x.grad().abs().sum().item<double>() == 0.0);
}

TEST_CASE("without a mask the loss is plain cross-entropy", "[unit]") {
  torch::manual_seed(1337);
  auto logits = torch::randn({2, 3, 5});
  auto targets = torch::randint(5, {2, 3}, torch::kLong);
  auto expected = torch::nn::functional::cross_entropy(logits.view({-1, 5}),
                                                       targets.view({-1}));
  CHECK(lm_loss(logits, targets, {}).item<double>() ==
        Approx(expected.item<double>()));
}

TEST_CASE("grad_scaler unscales, skips overflowed steps and backs off",
          "[unit]") {
  auto p = torch::ones({3}).requires_grad_(true);
  grad_scaler scaler(true, 8.0, 2.0, 0.5, 2);
  scaler.scale((p * 3).sum()).backward();
  CHECK(scaler.unscale({p}));
  CHECK(torch::allclose(p.grad(), torch::full({3}, 3.0)));
  scaler.update(true);
  scaler.update(true);
  CHECK(scaler.current_scale() == 16.0);  // grew after 2 clean steps

  p.mutable_grad() = torch::tensor({1.0f, INFINITY, 0.0f});
  CHECK_FALSE(scaler.unscale({p}));
  scaler.update(false);
  CHECK(scaler.current_scale() == 8.0);
  CHECK(scaler.growth_tracker() == 0);

  grad_scaler off(false);
  CHECK(off.current_scale() == 1.0);
  CHECK(off.unscale({p}));
}
