#include "model/sampler.hpp"

#include <cmath>
#include <limits>

#include <torch/torch.h>

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;

namespace {

at::Tensor fixed_logits() {
  return torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}).log();  // (4)
}

/// What the sampler must draw from, in tensor ops over the whole
/// vocabulary: softmax at the temperature, then top_k (ties kept), then
/// top_p over the sorted probabilities.
at::Tensor reference_distribution(at::Tensor x, const sampling_params& p) {
  x = x / p.temperature;  // (V)
  const float neg_inf = -std::numeric_limits<float>::infinity();
  if (p.top_k > 0 && p.top_k < x.size(0)) {
    auto kth = std::get<0>(x.topk(p.top_k)).select(0, p.top_k - 1);
    x = x.masked_fill(x < kth, neg_inf);  // (V)
  }
  if (p.top_p < 1.0) {
    auto [sorted, order] = x.sort(0, /*descending=*/true);  // (V)
    auto probs = sorted.softmax(0).to(torch::kDouble);       // (V)
    auto drop_sorted = (probs.cumsum(0) - probs) >= p.top_p;
    auto drop = torch::zeros_like(drop_sorted).scatter_(0, order, drop_sorted);
    x = x.masked_fill(drop, neg_inf);  // (V)
  }
  return x.softmax(0);  // (V)
}

}  // namespace

TEST_CASE("temperature 0 and top_k 1 pick the argmax", "[unit]") {
  torch::manual_seed(1337);
  auto logits = torch::randn({100});
  const auto best = logits.argmax().item<int64_t>();
  sampler greedy({/*temperature=*/0.0, 0, 1.0, 1});
  sampler top1({/*temperature=*/1.5, /*top_k=*/1, 1.0, 2});
  for (int i = 0; i < 5; ++i) {
    CHECK(greedy.sample(logits) == best);
    CHECK(top1.sample(logits) == best);
  }
}

TEST_CASE("top_p removes the tail mass", "[unit]") {
  sampler s({1.0, 0, /*top_p=*/0.65, 1337});
  auto p = s.distribution(fixed_logits());
  // Sorted 0.4, 0.3 reach 0.7 >= 0.65: tokens 1 and 0 (0.3 of mass) go.
  CHECK(p[0].item<float>() == 0.0f);
  CHECK(p[1].item<float>() == 0.0f);
  CHECK(p[2].item<float>() == Approx(0.3 / 0.7));
  CHECK(p[3].item<float>() == Approx(0.4 / 0.7));
  // The most likely token survives any top_p.
  sampler tiny({1.0, 0, 0.01, 1337});
  CHECK(tiny.distribution(fixed_logits())[3].item<float>() == Approx(1.0));
}

TEST_CASE("top_k keeps the k most likely tokens", "[unit]") {
  sampler s({1.0, /*top_k=*/2, 1.0, 1337});
  auto p = s.distribution(fixed_logits());
  CHECK(p[0].item<float>() == 0.0f);
  CHECK(p[1].item<float>() == 0.0f);
  CHECK(p[3].item<float>() == Approx(0.4 / 0.7));
}

TEST_CASE("the distribution equals the reference over a full vocabulary",
          "[unit]") {
  torch::manual_seed(7);
  // Peaked logits (few tokens hold top_p: one round of ordering) and flat
  // ones (most tokens needed: several rounds), with and without top_k.
  for (double spread : {8.0, 0.5}) {
    auto logits = torch::randn({32000}) * spread;
    for (const sampling_params& p :
         {sampling_params{0.8, 0, 0.95, 1}, sampling_params{1.0, 40, 1.0, 1},
          sampling_params{1.3, 500, 0.9, 1}, sampling_params{0.7, 0, 0.5, 1},
          sampling_params{1.0, 0, 1.0, 1}}) {
      CAPTURE(spread, p.temperature, p.top_k, p.top_p);
      auto expected = reference_distribution(logits, p);
      auto got = sampler(p).distribution(logits);
      CHECK((got > 0).sum().item<int64_t>() ==
            (expected > 0).sum().item<int64_t>());
      CHECK((got - expected).abs().max().item<double>() < 1e-6);
    }
  }
}

TEST_CASE("NaN logits are never drawn; no finite logit is an error",
          "[unit]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto logits = torch::tensor({nan, 0.0f, nan, 1.0f});
  sampler s({1.0, 0, 0.9, 3});
  for (int i = 0; i < 50; ++i) {
    const auto token = s.sample(logits);
    CHECK((token == 1 || token == 3));
  }
  CHECK_THROWS_WITH(s.sample(torch::full({3}, nan)),
                    Catch::Contains("no token has a finite logit"));
}

TEST_CASE("the same seed gives the same tokens", "[unit]") {
  torch::manual_seed(1337);
  auto logits = torch::randn({50});
  sampler a({1.0, 0, 1.0, 42}), b({1.0, 0, 1.0, 42}), c({1.0, 0, 1.0, 43});
  std::vector<int64_t> ta, tb, tc;
  for (int i = 0; i < 32; ++i) {
    ta.push_back(a.sample(logits));
    tb.push_back(b.sample(logits));
    tc.push_back(c.sample(logits));
  }
  CHECK(ta == tb);
  CHECK(ta != tc);
}

TEST_CASE("sampling frequencies follow a fixed distribution", "[unit]") {
  sampler s({1.0, 0, 1.0, 1337});
  const int draws = 4000;
  std::vector<int> counts(4, 0);
  auto logits = fixed_logits();
  for (int i = 0; i < draws; ++i) ++counts[s.sample(logits)];
  // Standard error is at most sqrt(0.25 / 4000) ~ 0.008; allow 4 of them.
  for (int t = 0; t < 4; ++t) {
    INFO("token " << t);
    CHECK(std::abs(counts[t] / double(draws) - 0.1 * (t + 1)) < 0.032);
  }
  // top_p 0.65 keeps tokens 3 and 2: 4/7 and 3/7 of the draws.
  sampler top_p({1.0, 0, 0.65, 1337});
  std::vector<int> kept(4, 0);
  for (int i = 0; i < draws; ++i) ++kept[top_p.sample(logits)];
  CHECK(kept[0] + kept[1] == 0);
  CHECK(std::abs(kept[3] / double(draws) - 4.0 / 7.0) < 0.032);
}

TEST_CASE("sample_batch draws each row with its own sampler", "[unit]") {
  torch::manual_seed(1337);
  auto logits = torch::randn({3, 20});
  sampler a({0.0, 0, 1.0, 1}), b({1.0, 0, 1.0, 5}), c({1.0, 0, 1.0, 5});
  auto tokens = sample_batch(logits, {&a, &b, &c});
  CHECK(tokens[0] == logits[0].argmax().item<int64_t>());
  sampler b_alone({1.0, 0, 1.0, 5});
  CHECK(tokens[1] == b_alone.sample(logits[1]));
}

TEST_CASE("sampler rejects bad parameters", "[unit]") {
  CHECK_THROWS_WITH(sampler({-1.0, 0, 1.0, 1}), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(sampler({1.0, -2, 1.0, 1}), Catch::Contains("top_k"));
  CHECK_THROWS_WITH(sampler({1.0, 0, 0.0, 1}), Catch::Contains("top_p"));
}
