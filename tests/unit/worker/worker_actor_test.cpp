#include "actors/worker/worker_actor.hpp"

#include "actors/protocol/errc.hpp"
#include "actors/protocol/type_ids.hpp"
#include "actors/worker/engine.hpp"
#include "tests/unit/model/temp_dir.hpp"
#include "tests/unit/worker/tiny_model.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

using namespace chat;

namespace {

constexpr auto timeout = std::chrono::seconds(30);

/// Collects the chunks of one generation; `get` answers with all tokens so
/// far as one chunk.
caf::behavior collecting_sink(caf::event_based_actor*) {
  auto received = std::make_shared<token_chunk>();
  return {
    [received](token_chunk& chunk) {
      received->id = chunk.id;
      received->tokens.insert(received->tokens.end(), chunk.tokens.begin(),
                              chunk.tokens.end());
    },
    [received](atom::get) { return *received; },
  };
}

struct system_config : caf::actor_system_config {
  system_config() {
    add_message_types<caf::id_block::chat>();
  }
};

/// A tiny model's engine, an actor system and the worker actor serving it.
struct fixture {
  fixture() {
    worker::engine_options o;
    o.model_dir = checkpoint.string();
    o.max_batch = 4;
    eng = std::make_unique<worker::engine>(o);
    inference = sys.spawn(worker::serve_inference, eng.get());
  }

  ~fixture() {
    caf::anon_send_exit(inference, caf::exit_reason::user_shutdown);
  }

  generation_result generate(const generate_request& req,
                             const caf::actor& sink) {
    generation_result out;
    self->request(inference, timeout, atom::generate::value, req,
                  caf::actor_cast<token_sink_actor>(sink))
      .receive([&](generation_result& r) { out = std::move(r); },
               [&](caf::error& err) { FAIL(sys.render(err)); });
    return out;
  }

  std::vector<std::int32_t> tokens_of(const caf::actor& sink) {
    std::vector<std::int32_t> out;
    self->request(sink, timeout, atom::get::value)
      .receive([&](token_chunk& all) { out = std::move(all.tokens); },
               [&](caf::error& err) { FAIL(sys.render(err)); });
    return out;
  }

  test::temp_dir tmp;
  std::filesystem::path checkpoint
    = test::write_tiny_checkpoint(tmp.path(), 256);
  std::unique_ptr<worker::engine> eng;
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  inference_actor inference;
};

generate_request greedy(std::uint64_t id, std::vector<std::int32_t> prompt,
                        std::int32_t max_tokens) {
  generate_request r;
  r.id = id;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.sampling.max_tokens = max_tokens;
  return r;
}

} // namespace

TEST_CASE("the worker actor streams tokens to the sink and answers with "
          "the usage",
          "[unit]") {
  fixture f;
  auto sink = f.sys.spawn(collecting_sink);
  const std::vector<std::int32_t> prompt{5, 17, 42, 99};
  auto result = f.generate(greedy(7, prompt, 12), sink);
  CHECK(result.id == 7);
  CHECK(result.finish_reason == "length");
  CHECK(result.prompt_tokens == 4);
  CHECK(result.completion_tokens == 12);
  CHECK(result.model_id == "tiny-test");
  // The chunks were sent before the answer, so the sink holds them all.
  CHECK(f.tokens_of(sink) == test::greedy_reference(f.checkpoint, prompt, 12));

  f.self->request(f.inference, timeout, atom::get::value)
    .receive(
      [&](worker_status& s) {
        CHECK(s.model_id == "tiny-test");
        CHECK(s.device == "cpu");
        CHECK(s.max_batch == 4);
        CHECK(s.running == 0);
        CHECK(s.tokens_generated == 12);
      },
      [&](caf::error& err) { FAIL(f.sys.render(err)); });
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

TEST_CASE("the worker actor refuses bad requests with their errc", "[unit]") {
  fixture f;
  auto sink = f.sys.spawn(collecting_sink);
  auto refusal = [&](const generate_request& req) {
    caf::error out;
    f.self
      ->request(f.inference, timeout, atom::generate::value, req,
                caf::actor_cast<token_sink_actor>(sink))
      .receive([&](generation_result&) { FAIL("expected a refusal"); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  };
  CHECK(is_errc(refusal(greedy(1, {1, test::tiny_vocab}, 4)),
                errc::invalid_request));
  CHECK(is_errc(refusal(greedy(2, std::vector<std::int32_t>(256, 1), 4)),
                errc::prompt_too_long));
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

TEST_CASE("cancel, or a sink that goes down, ends the sequence as cancelled",
          "[unit]") {
  fixture f;
  SECTION("cancel by id") {
    auto sink = f.sys.spawn(collecting_sink);
    // cancel follows generate from the same sender, so the worker sees it
    // long before 250 tokens are decoded.
    auto pending = f.self->request(f.inference, timeout, atom::generate::value,
                                   greedy(3, {1, 2, 3}, 250),
                                   caf::actor_cast<token_sink_actor>(sink));
    f.self->send(f.inference, atom::cancel::value, std::uint64_t{3});
    pending.receive(
      [&](generation_result& r) {
        CHECK(r.finish_reason == "cancelled");
        CHECK(r.completion_tokens < 250);
      },
      [&](caf::error& err) { FAIL(f.sys.render(err)); });
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  }
  SECTION("the sink is down") {
    auto sink = f.sys.spawn(collecting_sink);
    caf::anon_send_exit(sink, caf::exit_reason::kill);
    f.self->wait_for(sink);
    // Monitoring a dead sink yields its down message at once.
    auto result = f.generate(greedy(4, {1, 2, 3}, 250), sink);
    CHECK(result.finish_reason == "cancelled");
    CHECK(result.completion_tokens < 250);
  }
}

TEST_CASE("the worker actor loads a model in the background and activates "
          "it",
          "[unit]") {
  fixture f;
  const auto other = test::write_other_checkpoint(f.tmp.path());
  auto load = [&](const model_ref& ref) {
    caf::expected<std::string> out{std::string()};
    f.self->request(f.inference, timeout, atom::load::value, ref)
      .receive([&](std::string& id) { out = std::move(id); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  };
  auto broken = load({"broken", (f.tmp / "nowhere").string()});
  REQUIRE(!broken);
  CHECK(is_errc(broken.error(), errc::model_load_failed));
  auto loaded = load({"", other.string()});
  REQUIRE(loaded);
  CHECK(*loaded == "other-test");
  f.self->request(f.inference, timeout, atom::activate::value, *loaded)
    .receive(
      [&](std::vector<std::string>& kept) {
        CHECK(kept == std::vector<std::string>{"other-test", "tiny-test"});
      },
      [&](caf::error& err) { FAIL(f.sys.render(err)); });
  auto sink = f.sys.spawn(collecting_sink);
  const std::vector<std::int32_t> prompt{5, 17, 42, 99};
  CHECK(f.generate(greedy(1, prompt, 6), sink).model_id == "other-test");
  CHECK(f.tokens_of(sink) == test::greedy_reference(other, prompt, 6));
  auto old = greedy(2, prompt, 6);
  old.model_id = "tiny-test";
  CHECK(f.generate(old, sink).model_id == "tiny-test");
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}
