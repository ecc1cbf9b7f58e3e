#include "model/cpu_linear.hpp"

#include <atomic>
#include <vector>

#include <torch/torch.h>

#include "model/cpu_thread_team.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;

namespace {

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("cpu linear equals at::linear for few rows, odd sizes included",
          "[unit]") {
  torch::manual_seed(7);
  c10::InferenceMode inference;
  for (int64_t rows : {1, 2, 3, 4, 5, 8, 9, 17, 64}) {
    for (int64_t n : {1, 3, 4, 7, 64, 130}) {
      for (int64_t k : {1, 5, 16, 31, 48, 770}) {
        auto x = torch::randn({rows, k});
        auto w = torch::randn({n, k});
        auto b = torch::randn({n});
        REQUIRE(row_kernel_applies(x, w, b));
        CAPTURE(rows, n, k);
        const double tolerance = 1e-5 * std::sqrt(static_cast<double>(k));
        CHECK(max_abs_diff(linear_product(x, w, b), at::linear(x, w, b)) <=
              tolerance);
        CHECK(max_abs_diff(linear_product(x, w, {}),
                           at::linear(x, w, {})) <= tolerance);
      }
    }
  }
}

TEST_CASE("cpu linear keeps the leading shape of its input", "[unit]") {
  c10::InferenceMode inference;
  auto x = torch::randn({2, 3, 8});  // (B, T, K)
  auto w = torch::randn({5, 8});
  auto y = linear_product(x, w, {});
  CHECK(y.sizes() == torch::IntArrayRef({2, 3, 5}));
  CHECK(max_abs_diff(y, at::linear(x, w, {})) <= 1e-5);
  // A non-contiguous input (a narrowed time axis) is read correctly.
  auto last = x.narrow(1, 2, 1);  // (B, 1, K)
  CHECK(max_abs_diff(linear_product(last, w, {}),
                     at::linear(last, w, {})) <= 1e-5);
}

TEST_CASE("training, many rows and other dtypes take at::linear", "[unit]") {
  auto w = torch::randn({4, 8}, torch::requires_grad());
  auto x = torch::randn({2, 8});
  SECTION("grad mode on: the kernel has no backward") {
    CHECK_FALSE(row_kernel_applies(x, w, {}));
    auto y = linear_product(x, w, {});
    y.sum().backward();
    CHECK(w.grad().defined());
  }
  SECTION("inference") {
    c10::InferenceMode inference;
    CHECK(row_kernel_applies(x, w, {}));
    CHECK_FALSE(row_kernel_applies(torch::randn({65, 8}), w, {}));
    CHECK_FALSE(row_kernel_applies(x.to(torch::kDouble),
                                       w.to(torch::kDouble), {}));
    CHECK_FALSE(row_kernel_applies(x, w.t().contiguous().t(), {}));
    CHECK_FALSE(row_kernel_applies(x, w, torch::randn({3})));
  }
}

TEST_CASE("thread team covers every index once, call after call", "[unit]") {
  for (int threads : {1, 2, 3}) {
    cpu_thread_team team(threads);
    CHECK(team.size() == threads);
    for (int64_t count : {0, 1, 2, 5, 1000}) {
      for (int repeat = 0; repeat < 50; ++repeat) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
        team.run(count, [&](int64_t begin, int64_t end) {
          for (auto i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
        });
        bool each_once = true;
        for (auto& h : hits) each_once = each_once && h.load() == 1;
        CAPTURE(threads, count, repeat);
        REQUIRE(each_once);
      }
    }
  }
}
