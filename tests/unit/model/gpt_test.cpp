#include "model/gpt.hpp"

#include <torch/torch.h>

#include <sys/mman.h>
#include <unistd.h>

#include "model/kv_cache.hpp"

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::model;

namespace {

gpt_config tiny_config() {
  gpt_config c;
  c.vocab_size = 64;
  c.context = 32;
  c.n_layer = 2;
  c.n_head = 4;
  c.d_model = 32;
  return c;
}

gpt tiny_model() {
  torch::manual_seed(1337);
  gpt model(tiny_config());
  model->eval();
  return model;
}

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

/// Greedy continuation of `prompt` in its own cache; logits of each step.
std::vector<at::Tensor> decode_alone(gpt& model, const at::Tensor& prompt,
                                     int steps) {
  kv_cache cache(model->config(), 1, torch::kCPU, torch::kFloat);
  const auto slot = cache.acquire();
  auto logits = model->forward_cached(prompt.view({1, -1}), cache, {slot},
                                      logits_for::last);  // (1, 1, V)
  std::vector<at::Tensor> out{logits.view({-1})};
  for (int s = 1; s < steps; ++s) {
    auto next = out.back().argmax().view({1, 1});  // (1, 1)
    out.push_back(model->forward_cached(next, cache, {slot}).view({-1}));
  }
  return out;
}

}  // namespace

TEST_CASE("forward returns logits for every position", "[unit]") {
  auto model = tiny_model();
  auto idx = torch::randint(64, {2, 10}, torch::kLong);
  auto logits = model->forward(idx);
  CHECK(logits.sizes() == at::IntArrayRef({2, 10, 64}));
  auto last = model->forward(idx, logits_for::last);
  CHECK(last.sizes() == at::IntArrayRef({2, 1, 64}));
  CHECK((last - logits.narrow(1, 9, 1)).abs().max().item<double>() <= 1e-5);
  CHECK_THROWS_WITH(model->forward(torch::zeros({1, 33}, torch::kLong)),
                    Catch::Contains("exceed context 32"));
}

TEST_CASE("changing a future token never changes earlier logits", "[unit]") {
  torch::NoGradGuard no_grad;
  auto model = tiny_model();
  auto idx = torch::randint(64, {1, 20}, torch::kLong);
  auto edited = idx.clone();
  edited[0][12] = (idx[0][12].item<int64_t>() + 1) % 64;
  auto a = model->forward(idx);
  auto b = model->forward(edited);
  CHECK(max_diff(a.narrow(1, 0, 12), b.narrow(1, 0, 12)) <= 1e-6);
  CHECK(max_diff(a.narrow(1, 12, 1), b.narrow(1, 12, 1)) > 1e-3);
}

TEST_CASE("cached incremental decode reproduces the full forward at every "
          "position", "[unit]") {
  torch::NoGradGuard no_grad;
  auto model = tiny_model();
  auto idx = torch::randint(64, {1, 32}, torch::kLong);
  auto full = model->forward(idx);  // (1, 32, V)

  kv_cache cache(model->config(), 3, torch::kCPU, torch::kFloat);
  cache.acquire();  // slot 0 stays busy so the sequence lives in slot 1
  const auto slot = cache.acquire();
  auto prefill = model->forward_cached(idx.narrow(1, 0, 5), cache, {slot});
  CHECK(max_diff(prefill, full.narrow(1, 0, 5)) <= 1e-4);
  for (int64_t t = 5; t < 32; ++t) {
    auto step = model->forward_cached(idx.narrow(1, t, 1), cache, {slot});
    INFO("position " << t);
    CHECK(max_diff(step, full.narrow(1, t, 1)) <= 1e-4);
  }
  CHECK(cache.length(slot) == 32);
  CHECK_THROWS_WITH(model->forward_cached(idx.narrow(1, 0, 1), cache, {slot}),
                    Catch::Contains("exceed context"));
}

TEST_CASE("a batch of sequences of different lengths decodes exactly as each "
          "alone", "[unit]") {
  torch::NoGradGuard no_grad;
  auto model = tiny_model();
  const std::vector<int64_t> prompt_lengths{3, 7, 12};
  std::vector<at::Tensor> prompts;
  for (auto n : prompt_lengths)
    prompts.push_back(torch::randint(64, {n}, torch::kLong));
  const int steps = 8;

  // Rows go to slots 2, 0, 1: not consecutive, so the gather path runs too.
  kv_cache cache(model->config(), 4, torch::kCPU, torch::kFloat);
  for (int i = 0; i < 3; ++i) cache.acquire();
  const std::vector<int64_t> slots{2, 0, 1};
  std::vector<at::Tensor> last(3);
  for (int b = 0; b < 3; ++b)
    last[b] = model->forward_cached(prompts[b].view({1, -1}), cache,
                                    {slots[b]}, logits_for::last)
                  .view({-1});  // (V)
  std::vector<std::vector<at::Tensor>> batched(3);
  for (int b = 0; b < 3; ++b) batched[b].push_back(last[b]);
  for (int s = 1; s < steps; ++s) {
    std::vector<int64_t> next;
    for (int b = 0; b < 3; ++b)
      next.push_back(batched[b].back().argmax().item<int64_t>());
    auto logits = model->forward_cached(
        torch::tensor(next).view({3, 1}), cache, slots);  // (3, 1, V)
    for (int b = 0; b < 3; ++b)
      batched[b].push_back(logits[b].view({-1}));
  }

  for (int b = 0; b < 3; ++b) {
    auto alone = decode_alone(model, prompts[b], steps);
    for (int s = 0; s < steps; ++s) {
      INFO("sequence " << b << " step " << s);
      CHECK(max_diff(alone[s], batched[b][s]) <= 1e-5);
      CHECK(alone[s].argmax().item<int64_t>() ==
            batched[b][s].argmax().item<int64_t>());
    }
  }
}

TEST_CASE("bf16 matmul weights: cached decode still equals the full forward "
          "and stays near fp32",
          "[unit]") {
  c10::InferenceMode inference;
  auto fp32 = tiny_model();
  auto bf16 = tiny_model();
  bf16->store_matmul_weights_as(torch::kBFloat16);
  CHECK(bf16->wte->weight.scalar_type() == torch::kBFloat16);
  CHECK(bf16->wpe->weight.scalar_type() == torch::kFloat);
  CHECK(bf16->ln_f->weight.scalar_type() == torch::kFloat);
  auto idx = torch::randint(64, {1, 12}, torch::kLong);
  const auto full = bf16->forward(idx);  // (1, 12, V)
  CHECK(full.scalar_type() == torch::kFloat);
  kv_cache cache(bf16->config(), 1, torch::kCPU, torch::kFloat);
  std::vector<int64_t> slots{cache.acquire()};
  for (int64_t t = 0; t < 12; ++t) {
    auto step = bf16->forward_cached(idx.narrow(1, t, 1), cache, slots);
    CHECK(max_diff(step[0][0], full[0][t]) <= 1e-4);
  }
  // bf16 keeps 8 significant bits: the logits move by well under 2% of
  // their range.
  const auto reference = fp32->forward(idx);
  const auto range = (reference.max() - reference.min()).item<double>();
  CHECK(max_diff(full, reference) <= 0.02 * range);
}

TEST_CASE("a bf16 kv cache: cached decode and prefill chunks stay near the "
          "full forward",
          "[unit]") {
  c10::InferenceMode inference;
  auto model = tiny_model();
  auto idx = torch::randint(64, {1, 12}, torch::kLong);
  const auto full = model->forward(idx);  // (1, 12, V)
  const auto range = (full.max() - full.min()).item<double>();
  kv_cache cache(model->config(), 1, torch::kCPU, torch::kBFloat16);
  std::vector<int64_t> slots{cache.acquire()};
  // A chunk of 5 prompt tokens (the span kernel), then one at a time.
  auto chunk = model->forward_cached(idx.narrow(1, 0, 5), cache, slots,
                                     logits_for::all);  // (1, 5, V)
  CHECK(max_diff(chunk, full.narrow(1, 0, 5)) <= 0.02 * range);
  for (int64_t t = 5; t < 12; ++t) {
    auto step = model->forward_cached(idx.narrow(1, t, 1), cache, slots);
    CHECK(max_diff(step[0][0], full[0][t]) <= 0.02 * range);
  }
  CHECK(cache.keys(0).scalar_type() == torch::kBFloat16);
}

TEST_CASE("kv cache slots are reused after release", "[unit]") {
  torch::NoGradGuard no_grad;
  auto model = tiny_model();
  kv_cache cache(model->config(), 2, torch::kCPU, torch::kFloat);
  const auto a = cache.acquire();
  const auto b = cache.acquire();
  CHECK(cache.free_slots() == 0);
  CHECK_THROWS_WITH(cache.acquire(), Catch::Contains("all 2 slots"));

  auto first = torch::randint(64, {1, 9}, torch::kLong);
  model->forward_cached(first, cache, {a});
  cache.release(a);
  CHECK_THROWS_WITH(cache.length(a), Catch::Contains("not acquired"));
  const auto reused = cache.acquire();
  CHECK(reused == a);
  CHECK(cache.length(reused) == 0);

  // Stale keys from the first sequence must not leak into the second.
  auto second = torch::randint(64, {1, 4}, torch::kLong);
  auto cached = model->forward_cached(second, cache, {reused});
  CHECK(max_diff(cached, model->forward(second)) <= 1e-5);
  CHECK(b != reused);
}

TEST_CASE("a new kv cache is all zeros and writable in every layer",
          "[unit]") {
  auto config = tiny_config();
  kv_cache cache(config, 3, torch::kCPU, torch::kFloat);
  for (int64_t l = 0; l < config.n_layer; ++l) {
    for (auto* t : {&cache.keys(l), &cache.values(l)}) {
      CHECK(t->sizes() == at::IntArrayRef({3, config.n_head, config.context,
                                           config.head_dim()}));
      CHECK(t->is_contiguous());
      CHECK(t->abs().sum().item<double>() == 0);
      t->select(0, 2).fill_(1.5);
      CHECK(t->sum().item<double>()
            == Approx(1.5 * config.n_head * config.context
                      * config.head_dim()));
    }
  }
}

TEST_CASE("kv cache commits a slot's memory in blocks ahead of writes",
          "[unit]") {
  auto config = tiny_config();
  config.context = 256;
  config.d_model = 64;
  config.n_head = 2;  // head size 32: 64 positions are two 4 KB pages
  kv_cache cache(config, 2, torch::kCPU, torch::kFloat);
  const auto slot = cache.acquire();
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  // Whether the page holding (slot, head, position) is in memory.
  auto resident = [&](at::Tensor& t, int64_t head, int64_t position) {
    const auto at = reinterpret_cast<uintptr_t>(
        t[slot][head][position].data_ptr<float>());
    unsigned char in_core = 0;
    REQUIRE(::mincore(reinterpret_cast<void*>(at / page * page), 1,
                      &in_core) == 0);
    return (in_core & 1) != 0;
  };
  // Whether this kernel commits pages in bulk (Linux >= 5.14); without it
  // commit() leaves the memory to the first writes.
  bool bulk_commits = false;
#if defined(MADV_POPULATE_WRITE)
  void* probe = ::mmap(nullptr, page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(probe != MAP_FAILED);
  bulk_commits = ::madvise(probe, page, MADV_POPULATE_WRITE) == 0;
  ::munmap(probe, page);
#endif
  CHECK_FALSE(resident(cache.keys(0), 0, 0));
  cache.commit(slot, 1);
  if (bulk_commits) {
    for (int64_t l = 0; l < config.n_layer; ++l)
      for (auto* t : {&cache.keys(l), &cache.values(l)})
        for (int64_t h = 0; h < config.n_head; ++h) {
          CHECK(resident(*t, h, 0));
          CHECK(resident(*t, h, 63));
          CHECK_FALSE(resident(*t, h, 192));
        }
    cache.commit(slot, 100000);  // clamped to the context
    CHECK(resident(cache.values(1), 1, 255));
  }
  CHECK(cache.length(slot) == 0);
  CHECK(cache.keys(0).abs().sum().item<double>() == 0);
  CHECK_THROWS_WITH(cache.commit(1, 1), Catch::Contains("not acquired"));
}

TEST_CASE("activation checkpointing gives the same gradients", "[unit]") {
  auto config = tiny_config();
  config.dropout = 0.1;
  torch::manual_seed(1337);
  gpt model(config);
  model->train();
  auto idx = torch::randint(64, {2, 16}, torch::kLong);

  auto grads = [&](bool recompute) {
    model->zero_grad();
    torch::manual_seed(7);
    model->forward(idx, logits_for::all, recompute).square().mean().backward();
    std::vector<at::Tensor> g;
    for (const auto& p : model->parameters()) g.push_back(p.grad().clone());
    return g;
  };
  auto plain = grads(false);
  auto recomputed = grads(true);
  REQUIRE(plain.size() == recomputed.size());
  for (size_t i = 0; i < plain.size(); ++i)
    CHECK(max_diff(plain[i], recomputed[i]) <= 1e-6);
}

TEST_CASE("a decode batch and prefill chunks in one cached forward equal "
          "their separate forwards",
          "[unit]") {
  c10::InferenceMode inference;
  auto model = tiny_model();
  // Two sequences already decoding (slots 0 and 2), two prompts arriving
  // (slots 1 and 3), the second taken in two chunks. Kernels apply in
  // inference mode: the shared matmuls see 2 + 12 + 4 rows (the packed
  // kernel), then 2 + 3 (the few-row one).
  auto history = torch::randint(64, {2, 6}, torch::kLong);
  auto next = torch::randint(64, {2, 1}, torch::kLong);
  auto prompt_a = torch::randint(64, {1, 12}, torch::kLong);
  auto prompt_b = torch::randint(64, {1, 7}, torch::kLong);

  auto run = [&](bool together) {
    kv_cache cache(model->config(), 4, torch::kCPU, torch::kFloat);
    for (int i = 0; i < 4; ++i) cache.acquire();
    model->forward_cached(history, cache, {0, 2});
    std::vector<at::Tensor> out;
    // The second step wants every position of prompt_b's last chunk, as a
    // verified draft does; the others only their last.
    const auto last = logits_for::last;
    const std::vector<cached_rows> first{
        {next, {0, 2}, last},
        {prompt_a, {1}, last},
        {prompt_b.narrow(1, 0, 4), {3}, last}};
    const std::vector<cached_rows> second{
        {next, {0, 2}, last}, {prompt_b.narrow(1, 4, 3), {3}}};
    for (const auto* groups : {&first, &second}) {
      if (together) {
        for (auto& t : model->forward_cached(*groups, cache))
          out.push_back(t);
      } else {
        for (const auto& g : *groups)
          out.push_back(model->forward_cached(g.idx, cache, g.slots,
                                              g.logits));
      }
    }
    for (int64_t s = 0; s < 4; ++s)
      out.push_back(torch::tensor(cache.length(s)));
    return out;
  };
  auto apart = run(false);
  auto together = run(true);
  REQUIRE(apart.size() == together.size());
  for (size_t i = 0; i < apart.size(); ++i) {
    INFO("output " << i);
    CHECK(apart[i].sizes() == together[i].sizes());
    CHECK(max_diff(apart[i].to(torch::kFloat), together[i].to(torch::kFloat))
          <= 1e-5);
  }
  // Every logit is also what the full forward gives at that position.
  auto full = model->forward(prompt_b);  // (1, 7, V)
  REQUIRE(together[4].size(1) == 3);
  CHECK(max_diff(together[4][0], full[0].narrow(0, 4, 3)) <= 1e-4);
}

TEST_CASE("a cached forward refuses a slot in two groups and empty input",
          "[unit]") {
  c10::InferenceMode inference;
  auto model = tiny_model();
  kv_cache cache(model->config(), 2, torch::kCPU, torch::kFloat);
  cache.acquire();
  cache.acquire();
  auto one = torch::zeros({1, 1}, torch::kLong);
  CHECK_THROWS_WITH(
      model->forward_cached({{one, {0}}, {one, {0}}}, cache),
      Catch::Matchers::Contains("slot 0 appears twice"));
  CHECK_THROWS_WITH(model->forward_cached(std::vector<cached_rows>{}, cache),
                    Catch::Matchers::Contains("no rows"));
  CHECK(cache.length(0) == 0);
}
