#include "actors/worker/engine.hpp"

#include "tests/unit/worker/engine_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace chat;
using namespace chat::test;

namespace {

using tokens = std::vector<std::int32_t>;

/// A prompt that repeats itself, so that drafts start at once.
tokens looping_prompt() {
  tokens p;
  for (int i = 0; i < 4; ++i)
    for (std::int32_t t : {17, 230, 5, 88, 141})
      p.push_back(t);
  return p;
}

struct reply {
  tokens text;
  std::string finish;
  std::size_t largest_step = 0;  // most tokens one on_tokens brought
};

reply run(worker::engine& eng, const generate_request& req) {
  recording r;
  reply out;
  r.on_token = [&](const recording& seen) {
    out.largest_step = std::max(out.largest_step,
                                seen.tokens.size() - out.text.size());
    out.text = seen.tokens;
  };
  REQUIRE(!eng.submit(req, r.observer()));
  out.finish = r.result().finish_reason;
  return out;
}

/// The prompt tokens a next turn (`prompt`, `reply`, one more token) finds
/// in the cache `eng` kept of this one: what the reply left there.
std::int64_t kept_for_next_turn(worker::engine& eng, tokens prompt,
                                const tokens& reply) {
  const auto before = eng.prefix_stats().reused_tokens;
  prompt.insert(prompt.end(), reply.begin(), reply.end());
  prompt.push_back(11);
  run(eng, request(2, prompt, 1));
  return eng.prefix_stats().reused_tokens - before;
}

} // namespace

TEST_CASE("drafted steps reply exactly as one token a step, greedy and "
          "seeded",
          "[unit]") {
  fixture drafting;
  fixture plain(4, 8, 8, 4, 0);
  std::size_t largest_step = 0;
  for (const auto& prompt : {looping_prompt(), prompt_of(9, 3)}) {
    for (float temperature : {0.0f, 0.7f, 1.0f}) {
      for (std::uint64_t seed : {1u, 2u}) {
        auto req = request(1, prompt, 40, temperature, seed);
        req.sampling.top_p = temperature == 0.7f ? 0.9f : 1.0f;
        INFO("temperature " << temperature << ", seed " << seed);
        const auto with = run(*drafting.eng, req);
        const auto without = run(*plain.eng, req);
        CHECK(with.text == without.text);
        CHECK(with.finish == without.finish);
        CHECK(without.largest_step == 1);
        largest_step = std::max(largest_step, with.largest_step);
      }
    }
  }
  const auto drafts = drafting.eng->status().drafts;
  CHECK(drafts.accepted > 0);
  CHECK(drafts.accepted <= drafts.proposed);
  CHECK(largest_step > 1);
  CHECK(plain.eng->status().drafts.proposed == 0);
}

TEST_CASE("a reply ends at every length and stop token where it would "
          "without drafts, and leaves its cache exact",
          "[unit]") {
  const auto prompt = looping_prompt();
  const auto P = static_cast<std::int64_t>(prompt.size());
  tokens reference;
  std::int64_t accepted = 0;
  // A fresh engine for each reply, so that the next turn can reuse only
  // what this reply left: every token fed, not the last one sampled.
  for (int max_tokens = 1; max_tokens <= 30; ++max_tokens) {
    INFO("max_tokens " << max_tokens);
    fixture f;
    if (reference.empty())
      reference = greedy_reference(f.checkpoint, prompt, 30);
    const auto r = run(*f.eng, request(1, prompt, max_tokens));
    CHECK(r.finish == "length");
    CHECK(r.text == tokens(reference.begin(), reference.begin() + max_tokens));
    CHECK(kept_for_next_turn(*f.eng, prompt, r.text) == P + max_tokens - 1);
    accepted += f.eng->status().drafts.accepted;
  }
  // Every stop token, at its first place in the reply: it is never fed.
  for (std::size_t k = 0; k < reference.size(); ++k) {
    if (std::find(reference.begin(), reference.begin() + k, reference[k])
        != reference.begin() + k)
      continue;
    INFO("stop at " << k);
    fixture f;
    auto req = request(1, prompt, 30);
    req.stop_tokens = {reference[k]};
    const auto r = run(*f.eng, req);
    CHECK(r.finish == "stop");
    CHECK(r.text == tokens(reference.begin(), reference.begin() + k));
    if (k > 0)
      CHECK(kept_for_next_turn(*f.eng, prompt, r.text)
            == P + static_cast<std::int64_t>(k));
    accepted += f.eng->status().drafts.accepted;
  }
  CHECK(accepted > 0);
}

TEST_CASE("drafts stop at the context's end", "[unit]") {
  fixture f;
  // 120 of 128 positions: 8 more fed, so 9 tokens fit.
  tokens prompt;
  while (prompt.size() < 120)
    for (std::int32_t t : {17, 230, 5, 88, 141})
      prompt.push_back(t);
  prompt.resize(120);
  const auto r = run(*f.eng, request(1, prompt, 100));
  CHECK(r.finish == "length");
  CHECK(r.text == greedy_reference(f.checkpoint, prompt, 9));
  CHECK(r.largest_step > 1);
}

TEST_CASE("no drafts when more sequences decode than draft_max_batch",
          "[unit]") {
  REQUIRE(worker::engine_options{}.draft_max_batch == 2);
  fixture f(8, 8, 128, 4);
  // The first sequence's only token submits six more from inside its
  // step, so all six are admitted, prefilled (120 tokens, one chunk) and
  // decoded together.
  std::vector<recording> seqs(6);
  recording first;
  first.on_token = [&](const recording&) {
    for (std::size_t i = 0; i < seqs.size(); ++i)
      REQUIRE(!f.eng->submit(request(i + 2, looping_prompt(), 12),
                             seqs[i].observer()));
  };
  REQUIRE(!f.eng->submit(request(1, prompt_of(3, 1), 1), first.observer()));
  first.result();
  for (auto& s : seqs)
    CHECK(s.result().completion_tokens == 12);
  CHECK(f.eng->status().peak_batch == 6);
  CHECK(f.eng->status().drafts.proposed == 0);
  // The same request alone drafts.
  const auto alone = run(*f.eng, request(9, looping_prompt(), 12));
  CHECK(alone.largest_step > 1);
  CHECK(f.eng->status().drafts.proposed > 0);
}
