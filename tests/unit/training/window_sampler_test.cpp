#include "training/window_sampler.hpp"

#include <torch/torch.h>

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using namespace chat::training;

namespace {

chat::shard::token_shard counting_shard(int n, bool with_mask) {
  chat::shard::token_shard s;
  s.vocab_size = 1000;
  for (int i = 0; i < n; ++i) {
    s.tokens.push_back(i);
    if (with_mask) s.loss_mask.push_back(i % 3 == 0 ? 1 : 0);
  }
  return s;
}

}  // namespace

TEST_CASE("windows are next-token pairs with aligned masks", "[unit]") {
  window_sampler data(counting_shard(500, true), 16, 4, true, 1337, "t");
  auto batch = data.next(torch::kCPU);
  CHECK(batch.inputs.sizes() == at::IntArrayRef({4, 16}));
  CHECK(torch::equal(batch.targets, batch.inputs + 1));
  // Token i's mask byte is 1 when i % 3 == 0; the mask follows the targets.
  CHECK(torch::equal(batch.mask,
                     (batch.targets.remainder(3) == 0).to(torch::kFloat)));
}

TEST_CASE("the data RNG is seeded and restorable", "[unit]") {
  window_sampler a(counting_shard(500, false), 8, 2, false, 1337, "a");
  window_sampler b(counting_shard(500, false), 8, 2, false, 1337, "b");
  CHECK(torch::equal(a.next(torch::kCPU).inputs, b.next(torch::kCPU).inputs));
  const auto saved = a.rng_state();
  auto expected = a.next(torch::kCPU).inputs;
  a.next(torch::kCPU);
  a.restore_rng_state(saved);
  CHECK(torch::equal(a.next(torch::kCPU).inputs, expected));
  CHECK_THROWS_WITH(a.restore_rng_state("garbage"),
                    Catch::Contains("malformed"));
}

TEST_CASE("short or unmasked shards are refused clearly", "[unit]") {
  CHECK_THROWS_WITH(
      window_sampler(counting_shard(1, false), 8, 2, false, 1, "x.bin"),
      Catch::Contains("x.bin: holds 1 tokens"));
  CHECK_THROWS_WITH(
      window_sampler(counting_shard(50, false), 8, 2, true, 1, "x.bin"),
      Catch::Contains("no loss mask"));
  // A shard shorter than the context gives shorter windows.
  window_sampler small(counting_shard(5, false), 8, 2, false, 1, "s");
  CHECK(small.window() == 4);
}

TEST_CASE("a mixed batch keeps the chat mask and counts every text target",
          "[unit]") {
  window_sampler chat(counting_shard(500, true), 16, 3, true, 1, "chat");
  window_sampler text(counting_shard(500, false), 16, 2, false, 2, "text");
  auto chat_batch = chat.next(torch::kCPU);
  auto text_batch = text.next(torch::kCPU);
  auto mixed = mix_batches(chat_batch, text_batch);
  CHECK(mixed.inputs.sizes() == at::IntArrayRef({5, 16}));
  CHECK(torch::equal(mixed.inputs.narrow(0, 0, 3), chat_batch.inputs));
  CHECK(torch::equal(mixed.targets.narrow(0, 3, 2), text_batch.targets));
  CHECK(torch::equal(mixed.mask.narrow(0, 0, 3), chat_batch.mask));
  CHECK(torch::equal(mixed.mask.narrow(0, 3, 2), torch::ones({2, 16})));
}
