#pragma once
// What the engine tests share: a recorded sequence, requests and prompts,
// and an engine serving the tiny checkpoint. No LibTorch here.

#include "actors/worker/engine.hpp"
#include "tests/unit/model/temp_dir.hpp"
#include "tests/unit/worker/tiny_model.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>

namespace chat::test {

/// One sequence's tokens and end as the engine reports them. `on_token`
/// runs on the engine thread after each token, e.g. to submit or cancel.
struct recording {
  std::vector<std::int32_t> tokens;
  std::function<void(const recording&)> on_token;
  std::promise<caf::expected<generation_result>> ended;
  std::future<caf::expected<generation_result>> end = ended.get_future();

  worker::sequence_observer observer() {
    return {[this](std::vector<std::int32_t> new_tokens) {
              tokens.insert(tokens.end(), new_tokens.begin(),
                            new_tokens.end());
              if (on_token)
                on_token(*this);
            },
            [this](caf::expected<generation_result> e) {
              ended.set_value(std::move(e));
            }};
  }

  /// The result; fails the test when the sequence failed or hangs.
  generation_result result() {
    REQUIRE(end.wait_for(std::chrono::seconds(30))
            == std::future_status::ready);
    auto e = end.get();
    REQUIRE(e);
    return *e;
  }
};

inline generate_request request(std::uint64_t id, std::vector<std::int32_t> prompt,
                         std::int32_t max_tokens, float temperature = 0.0f,
                         std::uint64_t seed = 0) {
  generate_request r;
  r.id = id;
  r.prompt = std::move(prompt);
  r.sampling.max_tokens = max_tokens;
  r.sampling.temperature = temperature;
  r.sampling.seed = seed;
  return r;
}

inline std::vector<std::int32_t> prompt_of(std::int32_t length, std::int32_t first) {
  std::vector<std::int32_t> p;
  for (std::int32_t i = 0; i < length; ++i)
    p.push_back((first + 37 * i) % tiny_vocab);
  return p;
}

/// A tiny checkpoint in a temp dir and an engine serving it. Drafts are on
/// (the service's default is off), so that every engine test also checks
/// that speculative decoding changes no reply.
struct fixture {
  explicit fixture(int max_batch = 4, int max_queue = 8,
                   int prefill_chunk = 8, int prefix_cache_slots = 4,
                   int draft_tokens = 4) {
    worker::engine_options o;
    o.model_dir = checkpoint.string();
    o.max_batch = max_batch;
    o.max_queue = max_queue;
    o.prefill_chunk = prefill_chunk;
    o.prefix_cache_slots = prefix_cache_slots;
    o.draft_tokens = draft_tokens;
    eng = std::make_unique<worker::engine>(o);
  }

  temp_dir tmp;
  std::filesystem::path checkpoint = write_tiny_checkpoint(tmp.path());
  std::unique_ptr<worker::engine> eng;
};

} // namespace chat::test
