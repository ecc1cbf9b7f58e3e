#include "actors/worker/prefix_cache.hpp"

#include "model/kv_cache.hpp"

#include <torch/torch.h>

// LibTorch pulls in glog, whose CHECK aborts; Catch's CHECK must win.
#undef CHECK
#include <catch2/catch.hpp>

using chat::model::kv_cache;
using chat::worker::prefix_cache;
using tokens = std::vector<std::int32_t>;

namespace {

kv_cache small_cache(std::int64_t slots) {
  chat::model::gpt_config c;
  c.vocab_size = 64;
  c.context = 32;
  c.n_layer = 1;
  c.n_head = 2;
  c.d_model = 8;
  return kv_cache(c, slots, torch::kCPU, torch::kFloat);
}

/// Acquires a slot for `prompt`, fills the rest of it as a prefill would
/// and keeps it with `prompt` as its tokens.
std::int64_t run_and_keep(prefix_cache& prefixes, kv_cache& cache,
                          const tokens& prompt) {
  const auto claim = prefixes.acquire(prompt);
  cache.advance(claim.slot,
                static_cast<std::int64_t>(prompt.size()) - claim.reused);
  prefixes.keep(claim.slot, prompt);
  return claim.slot;
}

} // namespace

TEST_CASE("a prompt extending a kept sequence takes over its slot",
          "[unit]") {
  auto cache = small_cache(3);
  prefix_cache prefixes(cache, 1, true);
  const auto miss = prefixes.acquire({1, 2, 3});
  CHECK(miss.reused == 0);
  cache.advance(miss.slot, 3);
  // Tokens past the cached length (the last, never fed) are dropped.
  prefixes.keep(miss.slot, {1, 2, 3, 4});
  CHECK(prefixes.kept() == 1);

  const auto hit = prefixes.acquire({1, 2, 3, 9, 9});
  CHECK(hit.slot == miss.slot);
  CHECK(hit.reused == 3);
  CHECK(cache.length(hit.slot) == 3);
  CHECK(prefixes.kept() == 0);
}

TEST_CASE("a prompt sharing only part of a kept sequence copies that part "
          "and leaves it kept",
          "[unit]") {
  auto cache = small_cache(3);
  prefix_cache prefixes(cache, 1, true);
  const auto kept = run_and_keep(prefixes, cache, {1, 2, 3, 4, 5});

  const auto diverging = prefixes.acquire({1, 2, 7, 8});
  CHECK(diverging.slot != kept);
  CHECK(diverging.reused == 2);
  CHECK(cache.length(diverging.slot) == 2);
  CHECK(prefixes.kept() == 1);
  cache.release(diverging.slot);

  // The same prompt again: all but its last token, whose logits are needed.
  const auto same = prefixes.acquire({1, 2, 3, 4, 5});
  CHECK(same.slot != kept);
  CHECK(same.reused == 4);
  CHECK(cache.length(kept) == 5);
  cache.release(same.slot);

  const auto other = prefixes.acquire({9, 1, 2});
  CHECK(other.reused == 0);
  CHECK(cache.length(other.slot) == 0);
}

TEST_CASE("kept slots are given up least recently used first when a "
          "sequence needs one",
          "[unit]") {
  auto cache = small_cache(3);
  prefix_cache prefixes(cache, 1, true);
  run_and_keep(prefixes, cache, {1, 1, 1});
  run_and_keep(prefixes, cache, {2, 2, 2});
  run_and_keep(prefixes, cache, {3, 3, 3});
  CHECK(cache.free_slots() == 0);
  // A partial hit on {1, 1, 1} makes it the most recently used; its copy
  // takes the slot of {2, 2, 2}, the oldest, and stays held.
  const auto held = prefixes.acquire({1, 1, 5});
  CHECK(held.reused == 2);
  CHECK(prefixes.kept() == 2);
  const auto fresh = prefixes.acquire({4, 4});  // gives up {3, 3, 3}
  CHECK(fresh.reused == 0);
  CHECK(prefixes.kept() == 1);
  CHECK(prefixes.acquire({1, 1, 1, 6}).reused == 3);
  CHECK(prefixes.kept() == 0);
}

TEST_CASE("keeping drops redundant prefixes and empty or unwanted slots",
          "[unit]") {
  auto cache = small_cache(3);
  SECTION("a longer sequence replaces the kept prefix it extends") {
    prefix_cache prefixes(cache, 1, true);
    run_and_keep(prefixes, cache, {1, 2});
    const auto copy = prefixes.acquire({1, 5, 6});  // copies {1}
    cache.advance(copy.slot, 2);
    prefixes.keep(copy.slot, {1, 5, 6});
    CHECK(prefixes.kept() == 2);
    const auto longer = cache.acquire();
    cache.advance(longer, 4);
    prefixes.keep(longer, {1, 2, 3, 4});
    CHECK(prefixes.kept() == 2);
    CHECK(cache.free_slots() == 1);
    // And a sequence that a kept one extends is not kept again.
    const auto shorter = cache.acquire();
    cache.advance(shorter, 3);
    prefixes.keep(shorter, {1, 2, 3});
    CHECK(prefixes.kept() == 2);
    CHECK(cache.free_slots() == 1);
  }
  SECTION("a slot with nothing cached is freed") {
    prefix_cache prefixes(cache, 1, true);
    const auto slot = prefixes.acquire({1, 2}).slot;
    prefixes.keep(slot, {1, 2});
    CHECK(prefixes.kept() == 0);
    CHECK(cache.free_slots() == 3);
  }
  SECTION("with reuse off nothing is kept") {
    prefix_cache prefixes(cache, 1, false);
    run_and_keep(prefixes, cache, {1, 2, 3});
    CHECK(prefixes.kept() == 0);
    CHECK(cache.free_slots() == 3);
    CHECK(prefixes.acquire({1, 2, 3, 4}).reused == 0);
  }
  SECTION("clear frees every kept slot") {
    prefix_cache prefixes(cache, 1, true);
    run_and_keep(prefixes, cache, {1});
    run_and_keep(prefixes, cache, {2});
    prefixes.clear();
    CHECK(prefixes.kept() == 0);
    CHECK(cache.free_slots() == 3);
  }
}
