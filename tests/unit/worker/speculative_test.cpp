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

TEST_CASE("a reply ends inside a draft exactly where it would without",
          "[unit]") {
  fixture f;
  const auto prompt = looping_prompt();
  const auto reference = greedy_reference(f.checkpoint, prompt, 30);
  // Every length: some end on a step's first token, some inside a draft.
  for (int max_tokens = 1; max_tokens <= 30; ++max_tokens) {
    INFO("max_tokens " << max_tokens);
    const auto r = run(*f.eng, request(1, prompt, max_tokens));
    CHECK(r.finish == "length");
    CHECK(r.text == tokens(reference.begin(), reference.begin() + max_tokens));
  }
  // Every stop token, at its first place in the reply.
  for (std::size_t k = 0; k < reference.size(); ++k) {
    if (std::find(reference.begin(), reference.begin() + k, reference[k])
        != reference.begin() + k)
      continue;
    INFO("stop at " << k);
    auto req = request(1, prompt, 30);
    req.stop_tokens = {reference[k]};
    const auto r = run(*f.eng, req);
    CHECK(r.finish == "stop");
    CHECK(r.text == tokens(reference.begin(), reference.begin() + k));
  }
  CHECK(f.eng->status().drafts.accepted > 0);
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
      REQUIRE(!f.eng->submit(request(i + 2, looping_prompt(), 3),
                             seqs[i].observer()));
  };
  REQUIRE(!f.eng->submit(request(1, prompt_of(3, 1), 1), first.observer()));
  first.result();
  for (auto& s : seqs)
    CHECK(s.result().completion_tokens == 3);
  CHECK(f.eng->status().peak_batch == 6);
  CHECK(f.eng->status().drafts.proposed == 0);
}
