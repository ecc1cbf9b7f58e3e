#include "model/sampler.hpp"

#include <cmath>

#include <torch/torch.h>

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;

namespace {

at::Tensor fixed_logits() {
  return torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}).log();  // (4)
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
