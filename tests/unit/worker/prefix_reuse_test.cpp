#include "actors/worker/engine.hpp"

#include "tests/unit/worker/engine_fixture.hpp"

#include <catch2/catch.hpp>

using namespace chat;
using namespace chat::test;

namespace {

using tokens = std::vector<std::int32_t>;

/// Runs a conversation of `turns` turns, one after another: each prompt is
/// the previous prompt, the reply to it and 5 new tokens. Returns each
/// turn's prompt and reply.
std::vector<std::pair<tokens, tokens>>
converse(worker::engine& eng, int turns, int reply_tokens,
         float temperature = 0.0f) {
  std::vector<std::pair<tokens, tokens>> out;
  auto prompt = prompt_of(6, 1);
  for (int t = 0; t < turns; ++t) {
    recording reply;
    REQUIRE(!eng.submit(request(t + 1, prompt, reply_tokens, temperature,
                                100 + t),
                        reply.observer()));
    reply.result();
    out.emplace_back(prompt, reply.tokens);
    prompt.insert(prompt.end(), reply.tokens.begin(), reply.tokens.end());
    const auto user = prompt_of(5, 50 + t);
    prompt.insert(prompt.end(), user.begin(), user.end());
  }
  return out;
}

} // namespace

TEST_CASE("a 10-turn conversation reuses each turn's cache and replies "
          "exactly as without it",
          "[unit]") {
  fixture f;
  const int reply_tokens = 6;
  const auto turns = converse(*f.eng, 10, reply_tokens);
  std::int64_t reusable = 0;
  for (size_t t = 0; t < turns.size(); ++t) {
    INFO("turn " << t + 1);
    CHECK(turns[t].second
          == greedy_reference(f.checkpoint, turns[t].first, reply_tokens));
    // All of the previous turn but its last reply token, never fed.
    if (t > 0)
      reusable += static_cast<std::int64_t>(turns[t - 1].first.size())
                  + reply_tokens - 1;
  }
  const auto stats = f.eng->prefix_stats();
  CHECK(stats.hits == 9);
  CHECK(stats.misses == 1);
  CHECK(stats.reused_tokens == reusable);

  fixture off(4, 8, 8, 0);
  CHECK(converse(*off.eng, 10, reply_tokens) == turns);
  CHECK(off.eng->prefix_stats().hits == 0);
  CHECK(off.eng->prefix_stats().misses == 10);
  CHECK(off.eng->prefix_stats().reused_tokens == 0);
}

TEST_CASE("seeded sampling draws the same tokens with and without prefix "
          "reuse",
          "[unit]") {
  fixture on;
  fixture off(4, 8, 8, 0);
  const auto with_reuse = converse(*on.eng, 6, 8, 1.0f);
  CHECK(on.eng->prefix_stats().hits == 5);
  CHECK(converse(*off.eng, 6, 8, 1.0f) == with_reuse);
}

TEST_CASE("a prompt that changed history reuses only the common part",
          "[unit]") {
  fixture f;
  const auto first = prompt_of(20, 3);
  recording a;
  REQUIRE(!f.eng->submit(request(1, first, 4), a.observer()));
  a.result();
  // The oldest turn dropped: only the first 8 tokens are shared.
  auto changed = tokens(first.begin(), first.begin() + 8);
  const auto rest = prompt_of(15, 90);
  changed.insert(changed.end(), rest.begin(), rest.end());
  recording b;
  REQUIRE(!f.eng->submit(request(2, changed, 6), b.observer()));
  b.result();
  CHECK(b.tokens == greedy_reference(f.checkpoint, changed, 6));
  auto stats = f.eng->prefix_stats();
  CHECK(stats.hits == 1);
  CHECK(stats.reused_tokens == 8);

  // The first sequence stays kept: its own continuation still hits it.
  auto next = first;
  next.insert(next.end(), a.tokens.begin(), a.tokens.end());
  next.push_back(7);
  recording c;
  REQUIRE(!f.eng->submit(request(3, next, 6), c.observer()));
  c.result();
  CHECK(c.tokens == greedy_reference(f.checkpoint, next, 6));
  stats = f.eng->prefix_stats();
  CHECK(stats.hits == 2);
  CHECK(stats.reused_tokens == 8 + 20 + 3);

  // Nothing in common: a miss.
  recording d;
  REQUIRE(!f.eng->submit(request(4, prompt_of(5, 250), 3), d.observer()));
  d.result();
  CHECK(f.eng->prefix_stats().misses == 2);
}

TEST_CASE("a cancelled sequence's kept cache continues exactly", "[unit]") {
  fixture f;
  const auto prompt = prompt_of(10, 4);
  recording cancelled;
  bool cancelling = false;  // a step may bring several tokens
  cancelled.on_token = [&](const recording& r) {
    if (!cancelling && r.tokens.size() >= 3) {
      cancelling = true;
      f.eng->cancel(1);
    }
  };
  REQUIRE(!f.eng->submit(request(1, prompt, 50), cancelled.observer()));
  CHECK(cancelled.result().finish_reason == "cancelled");
  auto next = prompt;
  next.insert(next.end(), cancelled.tokens.begin(), cancelled.tokens.end());
  next.push_back(11);
  recording after;
  REQUIRE(!f.eng->submit(request(2, next, 8), after.observer()));
  after.result();
  CHECK(after.tokens == greedy_reference(f.checkpoint, next, 8));
  CHECK(f.eng->prefix_stats().hits == 1);
}

TEST_CASE("prefixes are never reused across models", "[unit]") {
  fixture f;
  const auto other = write_other_checkpoint(f.tmp.path());
  REQUIRE(f.eng->load("", other.string()));
  tokens prompt;
  for (std::int32_t i = 0; i < 12; ++i)
    prompt.push_back((11 * i + 3) % other_vocab);
  recording first;
  REQUIRE(!f.eng->submit(request(1, prompt, 3), first.observer()));
  first.result();
  auto next = prompt;
  next.push_back(5);
  next.push_back(6);

  recording on_other;
  auto to_other = request(2, next, 6);
  to_other.model_id = "other-test";
  REQUIRE(!f.eng->submit(to_other, on_other.observer()));
  CHECK(on_other.result().model_id == "other-test");
  CHECK(on_other.tokens == greedy_reference(other, next, 6));
  CHECK(f.eng->prefix_stats().hits == 0);

  recording on_tiny;
  REQUIRE(!f.eng->submit(request(3, next, 6), on_tiny.observer()));
  on_tiny.result();
  CHECK(on_tiny.tokens == greedy_reference(f.checkpoint, next, 6));
  CHECK(f.eng->prefix_stats().hits == 1);
}

TEST_CASE("kept prefixes never take a batch slot from new sequences",
          "[unit]") {
  fixture f(2, 8, 8, 1);
  // Three kept sequences fill all three cache slots.
  for (std::int32_t i = 0; i < 3; ++i) {
    recording r;
    REQUIRE(!f.eng->submit(request(i + 1, prompt_of(4, 20 * i + 1), 3),
                           r.observer()));
    r.result();
  }
  recording a, b;
  const auto pa = prompt_of(3, 200), pb = prompt_of(3, 210);
  REQUIRE(!f.eng->submit(request(10, pa, 10), a.observer()));
  REQUIRE(!f.eng->submit(request(11, pb, 10), b.observer()));
  a.result();
  b.result();
  CHECK(a.tokens == greedy_reference(f.checkpoint, pa, 10));
  CHECK(b.tokens == greedy_reference(f.checkpoint, pb, 10));
  CHECK(f.eng->status().peak_batch == 2);
}

TEST_CASE("status reports KV-cache slots in use and prefix reuse",
          "[unit]") {
  fixture f;  // 4 batch slots and 4 more for prefixes
  auto idle = f.eng->status();
  CHECK(idle.kv_slots_total == 8);
  CHECK(idle.kv_slots_used == 0);

  converse(*f.eng, 3, 4);
  // Each turn took over the slot the previous one kept.
  auto after = f.eng->status();
  CHECK(after.kv_slots_used == 1);
  CHECK(after.prefix.hits == 2);
  CHECK(after.prefix.misses == 1);
  CHECK(after.prefix.reused_tokens == f.eng->prefix_stats().reused_tokens);

  recording other;
  std::int64_t used_while_running = -1;
  other.on_token = [&](const recording&) {
    used_while_running = f.eng->status().kv_slots_used;
  };
  REQUIRE(!f.eng->submit(request(9, prompt_of(5, 250), 3), other.observer()));
  other.result();
  CHECK(used_while_running == 2);
  CHECK(f.eng->status().kv_slots_used == 2);

  fixture off(4, 8, 8, 0);
  converse(*off.eng, 2, 4);
  CHECK(off.eng->status().kv_slots_total == 4);
  CHECK(off.eng->status().kv_slots_used == 0);
}
