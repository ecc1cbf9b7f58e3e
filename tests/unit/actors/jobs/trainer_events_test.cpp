#include "actors/jobs/trainer_events.hpp"

#include <catch2/catch.hpp>

using chat::trainer_progress;
using namespace std::chrono_literals;

TEST_CASE("chat-train lines become job events and progress", "[unit]") {
  trainer_progress p;
  auto t0 = trainer_progress::clock::time_point{};
  auto start = p.read(R"({"type":"start","job_type":"finetune","step":0,)"
                      R"("max_steps":10,"params":100,"device":"cpu",)"
                      R"("precision":"fp32","resumed_from":null})",
                      t0);
  CHECK(start.started);
  CHECK(start.event_type == "log");
  CHECK(start.event["resumed"] == false);
  CHECK(p.progress()["max_steps"] == 10);

  p.read(R"({"type":"step","step":1,"train_loss":2.5,"lr":0.001,)"
         R"("grad_norm":1.0,"tokens_per_sec":500.0})",
         t0 + 1s);
  auto step = p.read(R"({"type":"step","step":3,"train_loss":2.0,"lr":0.002,)"
                     R"("grad_norm":1.0,"tokens_per_sec":600.0})",
                     t0 + 2s);
  CHECK(step.event_type == "step");
  CHECK(step.event["train_loss"] == 2.0);
  CHECK(step.event["tokens_per_sec"] == 600.0);
  CHECK(p.progress()["step"] == 3);
  CHECK(p.progress()["lr"] == 0.002);
  // Two steps took a second: seven more take 3.5 s.
  CHECK(p.progress()["eta_s"].get<double>() == Approx(3.5));

  auto eval = p.read(
    R"({"type":"eval","step":3,"val_loss":1.5,"perplexity":4.48})", t0 + 2s);
  CHECK(eval.event_type == "eval");
  CHECK(p.progress()["val_loss"] == 1.5);

  auto checkpoint = p.read(
    R"({"type":"checkpoint","step":3,"path":"/x/step-3"})", t0 + 2s);
  CHECK(checkpoint.event_type == "checkpoint");
  CHECK_FALSE(checkpoint.event.contains("path"));

  auto done = p.read(R"({"type":"done","outcome":"finished","step":10,)"
                     R"("checkpoint":"/x/step-00000010"})",
                     t0 + 5s);
  CHECK(done.final_checkpoint == "/x/step-00000010");
  auto stopped = p.read(R"({"type":"done","outcome":"stopped","step":4,)"
                        R"("checkpoint":"/x/step-00000004"})",
                        t0 + 5s);
  CHECK_FALSE(stopped.final_checkpoint);

  auto error = p.read(R"({"type":"error","message":"out of memory"})", t0);
  CHECK(error.error == "out of memory");
  CHECK(error.event["level"] == "error");
}

TEST_CASE("unexpected trainer output becomes a shortened log event",
          "[unit]") {
  trainer_progress p;
  auto now = trainer_progress::clock::now();
  auto junk = p.read("Segmentation fault", now);
  CHECK(junk.event_type == "log");
  CHECK(junk.event["message"] == "Segmentation fault");
  auto long_line = p.read(std::string(5000, 'x'), now);
  CHECK(long_line.event["message"].get<std::string>().size() == 1000);
  auto wrong_types = p.read(R"({"type":"step","step":"one","train_loss":[]})",
                            now);
  CHECK(wrong_types.event["step"].is_null());
  CHECK(wrong_types.event["train_loss"].is_null());
  CHECK(p.read(R"([1,2])", now).event_type == "log");
}
