#include "actors/worker/engine.hpp"

#include "actors/protocol/errc.hpp"
#include "tests/unit/worker/engine_fixture.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace chat;
using namespace chat::test;
using worker::engine;
using worker::engine_options;

TEST_CASE("sequences joining a running batch decode exactly as greedy "
          "full-forward references",
          "[unit]") {
  fixture f;
  // B's 20-token prompt takes three prefill chunks of 8 while A decodes.
  const std::vector<std::vector<std::int32_t>> prompts
    = {prompt_of(5, 1), prompt_of(20, 2), prompt_of(11, 3), prompt_of(3, 4)};
  const int max_tokens = 24;
  std::vector<recording> seqs(prompts.size());
  std::vector<caf::error> submitted(prompts.size());
  auto submit = [&](size_t i) {
    submitted[i] = f.eng->submit(request(i, prompts[i], max_tokens),
                                 seqs[i].observer());
  };
  // B and C join once A has 2 tokens, D once it has 10: all
  // mid-generation. A step may bring A several tokens (a verified draft).
  bool joined_b_c = false, joined_d = false;
  seqs[0].on_token = [&](const recording& a) {
    if (!joined_b_c && a.tokens.size() >= 2) {
      joined_b_c = true;
      submit(1);
      submit(2);
    }
    if (!joined_d && a.tokens.size() >= 10) {
      joined_d = true;
      submit(3);
    }
  };
  submit(0);
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto result = seqs[i].result();
    INFO("sequence " << i);
    CHECK(!submitted[i]);
    CHECK(result.finish_reason == "length");
    CHECK(result.prompt_tokens == static_cast<int>(prompts[i].size()));
    CHECK(result.completion_tokens == max_tokens);
    CHECK(result.model_id == "tiny-test");
    CHECK(seqs[i].tokens
          == test::greedy_reference(f.checkpoint, prompts[i], max_tokens));
  }
  const auto status = f.eng->status();
  CHECK(status.peak_batch >= 3);
  CHECK(status.tokens_generated == 4 * max_tokens);
  CHECK(status.running == 0);
  CHECK(status.queued == 0);
  CHECK(status.max_batch == 4);
}

TEST_CASE("a seed repeats its samples whatever shares the batch", "[unit]") {
  fixture f;
  const auto prompt = prompt_of(6, 9);
  recording first, again, other;
  REQUIRE(!f.eng->submit(request(1, prompt, 20, 1.0f, 7), first.observer()));
  REQUIRE(!f.eng->submit(request(2, prompt, 20, 1.0f, 7), again.observer()));
  REQUIRE(!f.eng->submit(request(3, prompt, 20, 1.0f, 8), other.observer()));
  first.result();
  again.result();
  other.result();
  CHECK(first.tokens == again.tokens);
  CHECK(first.tokens != other.tokens);
}

TEST_CASE("a cancelled sequence gets no token after the step that "
          "cancelled it",
          "[unit]") {
  fixture f(1);
  recording running, waiting;
  caf::error waiting_refused;
  // A step may bring several tokens (a verified draft): cancel once there
  // are 3 or more, and expect no more than there were then.
  std::size_t sent_before_cancel = 0;
  running.on_token = [&](const recording& r) {
    if (r.tokens.size() == 1) {
      // max_batch 1: this one waits behind `running` and leaves the queue.
      waiting_refused = f.eng->submit(request(2, prompt_of(4, 5), 10),
                                      waiting.observer());
      f.eng->cancel(2);
    } else if (sent_before_cancel == 0 && r.tokens.size() >= 3) {
      sent_before_cancel = r.tokens.size();
      f.eng->cancel(1);
    }
  };
  REQUIRE(!f.eng->submit(request(1, prompt_of(4, 1), 50), running.observer()));
  auto r = running.result();
  REQUIRE(!waiting_refused);
  CHECK(r.finish_reason == "cancelled");
  CHECK(sent_before_cancel >= 3);
  CHECK(r.completion_tokens == static_cast<int>(sent_before_cancel));
  CHECK(running.tokens.size() == sent_before_cancel);
  auto w = waiting.result();
  CHECK(w.finish_reason == "cancelled");
  CHECK(w.completion_tokens == 0);
  CHECK(waiting.tokens.empty());
  f.eng->cancel(12345); // unknown ids are ignored
  CHECK(f.eng->status().running == 0);
}

TEST_CASE("a full queue refuses at once with queue_full", "[unit]") {
  fixture f(1, 2);
  recording running, second, third;
  caf::error accepted_second, accepted_third, refused;
  worker_status while_full;
  recording never;
  running.on_token = [&](const recording& r) {
    if (r.tokens.size() != 1)
      return;
    accepted_second = f.eng->submit(request(2, prompt_of(3, 2), 4),
                                    second.observer());
    accepted_third = f.eng->submit(request(3, prompt_of(3, 3), 4),
                                   third.observer());
    refused = f.eng->submit(request(4, prompt_of(3, 4), 4), never.observer());
    while_full = f.eng->status();
  };
  REQUIRE(!f.eng->submit(request(1, prompt_of(3, 1), 6), running.observer()));
  CHECK(running.result().finish_reason == "length");
  REQUIRE(!accepted_second);
  REQUIRE(!accepted_third);
  CHECK(second.result().finish_reason == "length");
  CHECK(third.result().finish_reason == "length");
  CHECK(is_errc(refused, errc::queue_full));
  CHECK(while_full.queued == 2);
  CHECK(while_full.running == 1);
}

TEST_CASE("a stop token ends with stop and is not sent", "[unit]") {
  fixture f;
  const auto prompt = prompt_of(7, 11);
  const auto reference = test::greedy_reference(f.checkpoint, prompt, 16);
  // The first token that did not occur before it: the output ends there.
  size_t k = 1;
  while (k < reference.size()
         && std::find(reference.begin(), reference.begin() + k, reference[k])
              != reference.begin() + k)
    ++k;
  REQUIRE(k < reference.size());
  recording seq;
  auto req = request(1, prompt, 16);
  req.stop_tokens = {reference[k], test::tiny_vocab + 5};
  REQUIRE(!f.eng->submit(req, seq.observer()));
  auto r = seq.result();
  CHECK(r.finish_reason == "stop");
  CHECK(r.completion_tokens == static_cast<int>(k));
  CHECK(seq.tokens
        == std::vector<std::int32_t>(reference.begin(), reference.begin() + k));
}

TEST_CASE("max_tokens and the context end with length", "[unit]") {
  fixture f;
  recording short_one, at_context;
  REQUIRE(!f.eng->submit(request(1, prompt_of(4, 1), 5),
                         short_one.observer()));
  // 125 of 128 positions: 3 more fed, so 4 tokens fit.
  const auto long_prompt = prompt_of(125, 2);
  REQUIRE(!f.eng->submit(request(2, long_prompt, 100),
                         at_context.observer()));
  auto s = short_one.result();
  CHECK(s.finish_reason == "length");
  CHECK(short_one.tokens.size() == 5);
  auto c = at_context.result();
  CHECK(c.finish_reason == "length");
  CHECK(c.completion_tokens == 4);
  CHECK(at_context.tokens
        == test::greedy_reference(f.checkpoint, long_prompt, 4));
}

TEST_CASE("invalid requests are refused before they queue", "[unit]") {
  fixture f;
  recording never;
  auto refusal = [&](generate_request r) {
    return f.eng->submit(std::move(r), never.observer());
  };
  CHECK(is_errc(refusal(request(1, {}, 4)), errc::invalid_request));
  CHECK(is_errc(refusal(request(1, {1, test::tiny_vocab}, 4)),
                errc::invalid_request));
  CHECK(is_errc(refusal(request(1, {-1}, 4)), errc::invalid_request));
  CHECK(is_errc(refusal(request(1, {1}, 0)), errc::invalid_request));
  CHECK(is_errc(refusal(request(1, {1}, 4, -1.0f)), errc::invalid_request));
  auto bad_top_p = request(1, {1}, 4);
  bad_top_p.sampling.top_p = 0.0f;
  CHECK(is_errc(refusal(bad_top_p), errc::invalid_request));
  CHECK(is_errc(refusal(request(1, prompt_of(128, 1), 4)),
                errc::prompt_too_long));
  CHECK(f.eng->status().queued == 0);
  CHECK(never.end.wait_for(std::chrono::seconds(0))
        == std::future_status::timeout);
}

TEST_CASE("stopping fails what is still waiting or running", "[unit]") {
  fixture f(1, 1);
  recording running, waiting;
  caf::error waiting_refused;
  std::promise<void> in_step, resume;
  auto resumed = resume.get_future();
  running.on_token = [&](const recording& r) {
    if (r.tokens.size() != 1)
      return;
    waiting_refused = f.eng->submit(request(2, prompt_of(3, 2), 4),
                                    waiting.observer());
    in_step.set_value();
    resumed.wait(); // holds the engine inside this step until stop() began
  };
  REQUIRE(!f.eng->submit(request(1, prompt_of(3, 1), 100),
                         running.observer()));
  in_step.get_future().wait();
  REQUIRE(!waiting_refused);
  auto stopper = std::async(std::launch::async, [&] { f.eng->stop(); });
  // The queue is full, so a probe is refused with queue_full until stop()
  // has begun and with engine_failure after.
  recording probe;
  while (is_errc(f.eng->submit(request(3, {1}, 4), probe.observer()),
                 errc::queue_full))
    std::this_thread::yield();
  resume.set_value();
  stopper.get();
  for (auto* seq : {&running, &waiting}) {
    REQUIRE(seq->end.wait_for(std::chrono::seconds(0))
            == std::future_status::ready);
    auto e = seq->end.get();
    CHECK((!e && is_errc(e.error(), errc::engine_failure)));
  }
  // The step that was running finished with the prompt's token, and no
  // step ran after stop(): a sequence decodes from the step after its
  // prefill.
  CHECK(running.tokens.size() == 1);
}

TEST_CASE("a missing or broken checkpoint is a clear error", "[unit]") {
  test::temp_dir tmp;
  engine_options o;
  o.model_dir = (tmp / "nowhere").string();
  CHECK_THROWS_WITH(engine(o), Catch::Contains("is not a directory"));
  std::filesystem::create_directory(tmp / "empty");
  o.model_dir = (tmp / "empty").string();
  CHECK_THROWS_WITH(engine(o), Catch::Contains("config.json"));
}

// -- hot swap --

namespace {

/// Waits (bounded) until `done` holds; the engine thread gets there.
template <class Predicate>
bool eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now()
                        + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::yield();
  }
  return true;
}

bool has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

} // namespace

TEST_CASE("a sequence finishes on the model it started on while new ones "
          "get the activated model",
          "[unit]") {
  fixture f;
  const auto other = test::write_other_checkpoint(f.tmp.path());
  auto loaded = f.eng->load("", other.string());
  REQUIRE(loaded);
  CHECK(*loaded == "other-test");
  CHECK(f.eng->model_id() == "tiny-test");
  const auto prompt = prompt_of(6, 5);
  const int max_tokens = 24;
  recording before, after, pinned;
  caf::error submitted_after, submitted_pinned;
  std::vector<std::string> kept;
  // The swap lands between two steps of `before`.
  before.on_token = [&](const recording& r) {
    if (r.tokens.size() != 3)
      return;
    kept = *f.eng->activate("other-test");
    submitted_after = f.eng->submit(request(2, prompt, max_tokens),
                                    after.observer());
    auto on_old = request(3, prompt, max_tokens);
    on_old.model_id = "tiny-test";
    submitted_pinned = f.eng->submit(on_old, pinned.observer());
  };
  REQUIRE(!f.eng->submit(request(1, prompt, max_tokens), before.observer()));
  const auto old_reference
    = test::greedy_reference(f.checkpoint, prompt, max_tokens);
  auto b = before.result();
  CHECK(b.model_id == "tiny-test");
  CHECK(before.tokens == old_reference);
  REQUIRE(!submitted_after);
  auto a = after.result();
  CHECK(a.model_id == "other-test");
  CHECK(after.tokens == test::greedy_reference(other, prompt, max_tokens));
  CHECK(after.tokens != old_reference);
  REQUIRE(!submitted_pinned);
  CHECK(pinned.result().model_id == "tiny-test");
  CHECK(pinned.tokens == old_reference);
  CHECK(kept == std::vector<std::string>{"other-test", "tiny-test"});
  CHECK(f.eng->status().model_id == "other-test");
  CHECK(f.eng->vocab_size() == test::other_vocab);
  // Prompts are checked against the vocabulary of the model they name.
  recording never;
  CHECK(is_errc(f.eng->submit(request(9, {test::other_vocab}, 2),
                              never.observer()),
                errc::invalid_request));
  // Rolling back is activating the previous one, still loaded.
  CHECK(*f.eng->activate("tiny-test")
        == std::vector<std::string>{"tiny-test", "other-test"});
  CHECK(f.eng->model_id() == "tiny-test");
}

TEST_CASE("a model neither active, previous nor last loaded is unloaded "
          "once its sequences end",
          "[unit]") {
  fixture f;
  const auto other = test::write_other_checkpoint(f.tmp.path());
  REQUIRE(f.eng->load("b", other.string()));
  REQUIRE(f.eng->activate("b"));
  // The first checkpoint again, under a third id.
  REQUIRE(f.eng->load("c", f.checkpoint.string()));
  CHECK(f.eng->loaded_models()
        == std::vector<std::string>{"b", "c", "tiny-test"});
  recording seq;
  bool kept_while_running = false;
  seq.on_token = [&](const recording& r) {
    if (r.tokens.size() != 2)
      return;
    // tiny-test becomes neither active nor previous, but this runs on it.
    f.eng->activate("c");
    kept_while_running = has(f.eng->loaded_models(), "tiny-test");
  };
  auto req = request(1, prompt_of(5, 1), 12);
  req.model_id = "tiny-test";
  REQUIRE(!f.eng->submit(req, seq.observer()));
  CHECK(seq.result().completion_tokens == 12);
  CHECK(kept_while_running);
  CHECK(eventually([&] { return !has(f.eng->loaded_models(), "tiny-test"); }));
  CHECK(f.eng->loaded_models() == std::vector<std::string>{"b", "c"});
  recording never;
  CHECK(is_errc(f.eng->submit(req, never.observer()),
                errc::model_unavailable));
}

TEST_CASE("loading a broken checkpoint or activating an unloaded model "
          "fails clearly and changes nothing",
          "[unit]") {
  fixture f;
  std::filesystem::create_directory(f.tmp / "empty");
  auto broken = f.eng->load("broken", (f.tmp / "empty").string());
  REQUIRE(!broken);
  CHECK(is_errc(broken.error(), errc::model_load_failed));
  auto missing = f.eng->activate("nowhere");
  REQUIRE(!missing);
  CHECK(is_errc(missing.error(), errc::model_unavailable));
  CHECK(f.eng->model_id() == "tiny-test");
  CHECK(f.eng->loaded_models() == std::vector<std::string>{"tiny-test"});
}
