#include "model/cpu_ops.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "model/cpu_gemm_kernel.hpp"
#include "model/cpu_kernel_args.hpp"
#include "model/cpu_thread_team.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;
// Catch has a namespace detail too.
namespace kernel_detail = chat::model::detail;

namespace {

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

/// Every instruction set's kernels this CPU runs; the process itself uses
/// only the best.
std::vector<std::pair<const char*, const kernel_detail::cpu_kernels*>>
instruction_sets() {
  std::vector<std::pair<const char*, const kernel_detail::cpu_kernels*>> sets;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    sets.emplace_back("avx2", &kernel_detail::avx2_kernels);
  if (__builtin_cpu_supports("avx512f"))
    sets.emplace_back("avx512", &kernel_detail::avx512_kernels);
#endif
  return sets;
}

}  // namespace

TEST_CASE("cpu linear equals at::linear for any rows, odd sizes included",
          "[unit]") {
  torch::manual_seed(7);
  c10::InferenceMode inference;
  // Under 16 rows the few-row kernel; from 16 the packed one, whose tiles
  // are 16 or 32 rows by 6 or 12 columns: partial tiles and slabs (past
  // 64 rows) included.
  for (int64_t rows : {1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 33, 64, 65, 130}) {
    for (int64_t n : {1, 3, 4, 7, 12, 13, 64, 130}) {
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

TEST_CASE("products big enough for the thread team equal at::linear",
          "[unit]") {
  torch::manual_seed(11);
  c10::InferenceMode inference;
  // Each thread takes one share of the columns; 1027 columns do not split
  // evenly into the kernel's blocks of 4, and 1027 x 770 is past the size
  // where a product is split at all.
  for (int64_t rows : {1, 2, 5, 17}) {
    auto x = torch::randn({rows, 770});
    auto w = torch::randn({1027, 770});
    auto b = torch::randn({1027});
    CAPTURE(rows);
    CHECK(max_abs_diff(linear_product(x, w, b), at::linear(x, w, b)) <=
          1e-5 * std::sqrt(770.0));
  }
}

TEST_CASE("rows given transposed are packed where they lie, same values",
          "[unit]") {
  torch::manual_seed(12);
  c10::InferenceMode inference;
  // x = aᵀ with a (K, M) contiguous, as training's backward passes dyᵀ;
  // 70 rows leave a 6-row slab after the first 64.
  for (int64_t rows : {16, 17, 70, 130}) {
    for (int64_t k : {2, 33}) {
      auto x = torch::randn({k, rows}).t();  // (rows, k), not contiguous
      auto w = torch::randn({13, k});
      auto b = torch::randn({13});
      CAPTURE(rows, k);
      CHECK(max_abs_diff(linear_product(x, w, b), at::linear(x, w, b)) <=
            1e-5 * std::sqrt(static_cast<double>(k)));
    }
  }
}

TEST_CASE("bf16 weights: the kernel multiplies by their values, any rows",
          "[unit]") {
  torch::manual_seed(11);
  auto check = [](int64_t rows, int64_t n, int64_t k) {
    auto x = torch::randn({rows, k});
    auto w = torch::randn({n, k}).to(torch::kBFloat16);
    auto b = torch::randn({n});
    CAPTURE(rows, n, k);
    const double tolerance = 1e-5 * std::sqrt(static_cast<double>(k));
    const auto expected = at::linear(x, w.to(torch::kFloat), b);
    CHECK(max_abs_diff(linear_product(x, w, b), expected) <= tolerance);
    return expected;
  };
  {
    c10::InferenceMode inference;
    // The few-row kernel, the packed one and slabs of 64 rows; k 17 and
    // 770 end in a partial vector.
    for (int64_t rows : {1, 3, 4, 16, 33, 64, 65, 130})
      for (int64_t n : {1, 7, 12, 130})
        for (int64_t k : {1, 17, 48, 770}) {
          REQUIRE(row_kernel_applies(torch::randn({rows, k}),
                                     torch::randn({n, k}).to(torch::kBFloat16),
                                     {}));
          check(rows, n, k);
        }
  }
  // Grad mode: at::linear over the widened weights.
  CHECK_FALSE(row_kernel_applies(torch::randn({2, 8}),
                                 torch::randn({3, 8}).to(torch::kBFloat16),
                                 {}));
  check(2, 3, 8);
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

TEST_CASE("training through the kernels gives at::linear's values and "
          "gradients",
          "[unit]") {
  torch::manual_seed(5);
  // Few rows and many (the packed kernel, in slabs), a (B, T, K) input,
  // with and without bias.
  for (auto shape : std::vector<std::vector<int64_t>>{
           {3, 7}, {2, 40, 33}, {130, 17}}) {
    const auto K = shape.back();
    for (int64_t n : {5, 64}) {
      for (bool with_bias : {true, false}) {
        CAPTURE(shape, n, with_bias);
        auto x = torch::randn(shape, torch::requires_grad());
        auto w = torch::randn({n, K}, torch::requires_grad());
        auto b = with_bias ? torch::randn({n}, torch::requires_grad())
                           : at::Tensor();
        REQUIRE(row_kernel_applies(x, w, b));
        auto upstream = torch::randn_like(at::linear(x, w, b));
        auto y = linear_product(x, w, b);
        (y * upstream).sum().backward();
        auto gx = x.grad().clone(), gw = w.grad().clone();
        auto gb = with_bias ? b.grad().clone() : at::Tensor();
        x.mutable_grad().reset();
        w.mutable_grad().reset();
        if (with_bias) b.mutable_grad().reset();
        auto expected = at::linear(x, w, b);
        (expected * upstream).sum().backward();
        const double tolerance = 1e-4 * std::sqrt(static_cast<double>(K));
        CHECK(max_abs_diff(y, expected) <= tolerance);
        CHECK(max_abs_diff(gx, x.grad()) <= tolerance);
        CHECK(max_abs_diff(gw, w.grad()) <=
              1e-4 * std::sqrt(static_cast<double>(x.numel() / K)));
        if (with_bias) CHECK(max_abs_diff(gb, b.grad()) <= 1e-3);
      }
    }
  }
  // Only the needed gradients: a frozen weight gets none.
  auto x = torch::randn({4, 8}, torch::requires_grad());
  auto frozen = torch::randn({3, 8});
  linear_product(x, frozen, {}).sum().backward();
  CHECK(x.grad().defined());
  CHECK_FALSE(frozen.grad().defined());
}

TEST_CASE("bf16 weights in grad mode and other dtypes take at::linear",
          "[unit]") {
  auto w = torch::randn({4, 8}, torch::requires_grad());
  auto x = torch::randn({2, 8});
  SECTION("grad mode on, bf16 weights: at::linear over the widened values") {
    CHECK_FALSE(row_kernel_applies(x, w.detach().to(torch::kBFloat16), {}));
  }
  SECTION("inference") {
    c10::InferenceMode inference;
    CHECK(row_kernel_applies(x, w, {}));
    CHECK(row_kernel_applies(torch::randn({65, 8}), w, {}));
    CHECK_FALSE(row_kernel_applies(x.to(torch::kDouble),
                                       w.to(torch::kDouble), {}));
    CHECK_FALSE(row_kernel_applies(x, w.t().contiguous().t(), {}));
    CHECK_FALSE(row_kernel_applies(x, w, torch::randn({3})));
  }
}

TEST_CASE("OpenBLAS, where loaded, is left with the calling thread alone",
          "[unit]") {
  using get_threads = int (*)();
  auto get = reinterpret_cast<get_threads>(
      ::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  CHECK(run_blas_on_calling_thread() == (get != nullptr));
  if (get != nullptr) CHECK(get() == 1);
  // LibTorch's products still answer right on one BLAS thread.
  auto a = torch::randn({70, 90}), b = torch::randn({90, 50});
  CHECK(max_abs_diff(torch::mm(a, b),
                     (a.unsqueeze(2) * b.unsqueeze(0)).sum(1)) <= 1e-3);
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

TEST_CASE("thread team hands a part's exception to the caller and goes on",
          "[unit]") {
  for (int threads : {1, 2, 3}) {
    cpu_thread_team team(threads);
    CAPTURE(threads);
    // Index 700 throws, wherever it falls; the caller sees that exception.
    CHECK_THROWS_WITH(team.run(1000,
                               [](int64_t begin, int64_t end) {
                                 if (begin <= 700 && 700 < end)
                                   throw std::runtime_error("part 700");
                               }),
                      "part 700");
    std::atomic<int64_t> covered{0};
    team.run(1000, [&](int64_t begin, int64_t end) { covered += end - begin; });
    CHECK(covered.load() == 1000);
  }
}

TEST_CASE("cached attention writes the new keys and equals the reference",
          "[unit]") {
  torch::manual_seed(11);
  c10::InferenceMode inference;
  const int64_t S = 5, heads = 3, context = 60, hs = 12, C = heads * hs;
  // Rows in slots 3 and 0 (not consecutive); one new token per row
  // (decode) or several (prompt chunks: fewer and more than the span
  // kernel's 8 queries per pass, prefixes across its 8- or 16-key tiles),
  // from an empty or a filled prefix; caches of fp32 and of bf16, which
  // hold the new keys rounded and are read widened.
  for (auto cache_type : {torch::kFloat, torch::kBFloat16})
    for (int64_t T : {1, 4, 13, 37}) {
      const std::vector<int64_t> slots{3, 0}, keys{T + 19, T};
      auto cache_k = torch::randn({S, heads, context, hs}).to(cache_type);
      auto cache_v = torch::randn({S, heads, context, hs}).to(cache_type);
      auto qkv = torch::randn({2, T, 3 * C});
      auto expected_k = cache_k.clone(), expected_v = cache_v.clone();
      std::vector<at::Tensor> expected;
      for (size_t b = 0; b < slots.size(); ++b) {
        const auto start = keys[b] - T;
        auto rows = qkv[b].view({T, 3, heads, hs}).permute({1, 2, 0, 3});
        // rows: (3, nh, T, hs)
        expected_k[slots[b]].narrow(1, start, T).copy_(rows[1]);
        expected_v[slots[b]].narrow(1, start, T).copy_(rows[2]);
        auto k = expected_k[slots[b]].narrow(1, 0, keys[b]).to(torch::kFloat);
        auto v = expected_v[slots[b]].narrow(1, 0, keys[b]).to(torch::kFloat);
        // k, v: (nh, n, hs)
        auto scores = torch::matmul(rows[0], k.transpose(1, 2)) /
                      std::sqrt(double(hs));  // (nh, T, n)
        // Query t sees positions up to start + t.
        auto future = torch::arange(keys[b]).view({1, keys[b]}) >
                      (torch::arange(T) + start).view({T, 1});  // (T, n)
        auto weights = torch::softmax(scores.masked_fill(
            future, -std::numeric_limits<float>::infinity()), -1);
        expected.push_back(
            torch::matmul(weights, v).permute({1, 0, 2}).reshape({T, C}));
      }
      CAPTURE(cache_type, T);
      REQUIRE(cached_attention_applies(qkv, cache_k, cache_v));
      auto out = cached_attention(qkv, cache_k, cache_v, slots, keys);
      CHECK(out.sizes() == torch::IntArrayRef({2, T, C}));
      CHECK(max_abs_diff(out.view({2 * T, C}), torch::cat(expected, 0)) <=
            1e-5);
      CHECK(torch::equal(cache_k, expected_k));
      CHECK(torch::equal(cache_v, expected_v));
    }
}

TEST_CASE("every instruction set's packed kernel equals at::linear",
          "[unit]") {
  torch::manual_seed(13);
  const int64_t M = 37, K = 29, N = 27;  // no whole blocks anywhere
  auto w = torch::randn({N, K}), bias = torch::randn({N});
  auto rows = torch::randn({M, K});
  auto columns = torch::randn({K, M + 3});  // rows are its first M columns
  for (const auto& [name, kernels] : instruction_sets())
    for (bool transposed : {false, true}) {
      CAPTURE(name, transposed);
      const auto block = kernels->gemm_rows_per_block;
      const auto padded = (M + block - 1) / block * block;
      std::vector<float> packed(static_cast<size_t>(padded * K), 7.0f);
      if (transposed)
        kernel_detail::gemm_pack_rows(columns.data_ptr<float>(), M, 1, M + 3,
                                      packed.data(), padded, 0, K);
      else
        kernel_detail::gemm_pack_rows(rows.data_ptr<float>(), M, K, 1,
                                      packed.data(), padded, 0, K);
      auto y = torch::empty({M, N});
      const kernel_detail::gemm_rows args{packed.data(), padded,
                                          w.data_ptr<float>(),
                                          bias.data_ptr<float>(),
                                          y.data_ptr<float>(), M, N, K};
      kernels->gemm_panels(args, 0, (N + kernels->gemm_columns - 1) /
                                        kernels->gemm_columns);
      auto x = transposed ? columns.narrow(1, 0, M).t() : rows;
      CHECK(max_abs_diff(y, at::linear(x, w, bias)) <= 1e-4);
    }
}

TEST_CASE("every instruction set's few-row kernels equal at::linear",
          "[unit]") {
  torch::manual_seed(14);
  // One row takes one weight row at a time, more rows the 4-row blocks
  // (5: a group of 4 and one of 1); K 200 runs the unrolled loops and a
  // remainder, K 37 the remainder alone.
  const int64_t N = 11;
  for (const int64_t M : {1, 2, 3, 4, 5})
    for (const int64_t K : {37, 200})
      for (const auto& [name, kernels] : instruction_sets()) {
        CAPTURE(name, M, K);
        auto x = torch::randn({M, K}), w = torch::randn({N, K}),
             bias = torch::randn({N});
        auto w16 = w.to(torch::kBFloat16);
        const auto* w16_bits = reinterpret_cast<const uint16_t*>(
            w16.data_ptr<at::BFloat16>());
        auto y = torch::empty({M, N}), y16 = torch::empty({M, N});
        kernels->linear_columns({x.data_ptr<float>(), w.data_ptr<float>(),
                                 bias.data_ptr<float>(), y.data_ptr<float>(), M,
                                 N, K},
                                0, N);
        kernels->linear_columns_bf16({x.data_ptr<float>(), w16_bits,
                                      bias.data_ptr<float>(),
                                      y16.data_ptr<float>(), M, N, K},
                                     0, N);
        CHECK(max_abs_diff(y, at::linear(x, w, bias)) <= 1e-4);
        CHECK(max_abs_diff(y16, at::linear(x, w16.to(torch::kFloat), bias)) <=
              1e-4);
      }
}

TEST_CASE("every instruction set's span kernel equals its row kernel",
          "[unit]") {
  torch::manual_seed(12);
  const int64_t heads = 2, context = 70;
  for (const auto& [name, kernels] : instruction_sets())
    for (int64_t hs : {5, 16, 24})
      for (int64_t T : {2, 9, 17}) {
        const int64_t C = heads * hs, first = 30;  // keys of query 0
        auto cache_k = torch::randn({2, heads, context, hs});
        auto cache_v = torch::randn({2, heads, context, hs});
        auto qkv = torch::randn({T, 3 * C});
        std::vector<int64_t> slots(T, 1), keys(T);
        for (int64_t t = 0; t < T; ++t) keys[t] = first + t;
        auto by_rows = torch::zeros({T, C}), by_span = torch::full({T, C}, 7.0);
        kernel_detail::cached_attention_rows args{
            qkv.data_ptr<float>(), cache_k.data_ptr<float>(),
            cache_v.data_ptr<float>(), slots.data(), keys.data(),
            by_rows.data_ptr<float>(), heads, hs, context,
            static_cast<float>(1.0 / std::sqrt(double(hs))), false, T};
        kernels->cached_attention(args, 0, T * heads);
        args.out = by_span.data_ptr<float>();
        kernels->cached_attention_spans(args, 0, heads);
        CAPTURE(name, hs, T);
        CHECK(max_abs_diff(by_span, by_rows) <= 1e-5);
        // bf16 caches: both kernels read the values the fp32 ones would.
        auto k16 = cache_k.to(torch::kBFloat16), v16 = cache_v.to(torch::kBFloat16);
        auto widened_k = k16.to(torch::kFloat), widened_v = v16.to(torch::kFloat);
        args.cache_k = widened_k.data_ptr<float>();
        args.cache_v = widened_v.data_ptr<float>();
        args.out = by_rows.data_ptr<float>();
        kernels->cached_attention(args, 0, T * heads);
        auto bits = [](at::Tensor& t) {
          return reinterpret_cast<uint16_t*>(t.data_ptr<at::BFloat16>());
        };
        auto rows16 = torch::zeros({T, C}), span16 = torch::zeros({T, C});
        kernel_detail::cached_attention_rows_bf16 args16{
            qkv.data_ptr<float>(), bits(k16), bits(v16), slots.data(),
            keys.data(), rows16.data_ptr<float>(), heads, hs, context,
            args.scale, false, T};
        kernels->cached_attention_bf16(args16, 0, T * heads);
        args16.out = span16.data_ptr<float>();
        kernels->cached_attention_spans_bf16(args16, 0, heads);
        CHECK(max_abs_diff(rows16, by_rows) <= 1e-5);
        CHECK(max_abs_diff(span16, by_rows) <= 1e-5);
      }
}

TEST_CASE("cached attention refuses slots and lengths outside the cache",
          "[unit]") {
  c10::InferenceMode inference;
  auto cache_k = torch::zeros({2, 2, 8, 4});
  auto cache_v = torch::zeros({2, 2, 8, 4});
  auto qkv = torch::zeros({1, 1, 24});
  CHECK_THROWS_AS(cached_attention(qkv, cache_k, cache_v, {2}, {1}),
                  std::invalid_argument);
  CHECK_THROWS_AS(cached_attention(qkv, cache_k, cache_v, {0}, {9}),
                  std::invalid_argument);
  CHECK_THROWS_AS(cached_attention(qkv, cache_k, cache_v, {0}, {0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(cached_attention(qkv, cache_k, cache_v, {0, 1}, {1, 1}),
                  std::invalid_argument);
  // Two new tokens need two positions.
  CHECK_THROWS_AS(cached_attention(torch::zeros({1, 2, 24}), cache_k, cache_v,
                                   {0}, {1}),
                  std::invalid_argument);
  CHECK(torch::equal(cache_k, torch::zeros({2, 2, 8, 4})));
}

TEST_CASE("thread team serves concurrent and nested callers correctly",
          "[unit]") {
  cpu_thread_team team(2);
  auto sum_of_indices = [&team](int64_t count) {
    std::atomic<int64_t> total{0};
    team.run(count, [&](int64_t begin, int64_t end) {
      for (auto i = begin; i < end; ++i) total += i;
    });
    return total.load();
  };
  std::atomic<bool> all_right{true};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int repeat = 0; repeat < 200; ++repeat)
        if (sum_of_indices(1000) != 999 * 1000 / 2) all_right = false;
    });
  for (auto& c : callers) c.join();
  CHECK(all_right);
  std::atomic<int64_t> nested{0};
  team.run(4, [&](int64_t begin, int64_t end) {
    for (auto i = begin; i < end; ++i) nested += sum_of_indices(10);
  });
  CHECK(nested == 4 * 45);
}
