#include "tools/chatctl/job_events.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using chat::cli::job_event_follower;
using chat::cli::job_event_line;
using json = nlohmann::json;

namespace {

/// One SSE frame as chatd sends it.
std::string frame(const json& event) {
  return "data: " + event.dump() + "\n\n";
}

} // namespace

TEST_CASE("job events print as one line each", "[unit]") {
  CHECK(job_event_line(json::parse(
          R"({"seq":7,"type":"step","created_at":1700000000,"step":120,
              "train_loss":2.345678,"lr":0.0003,"tokens_per_sec":5120.4})"),
          1000)
        == "step        120/1000  loss 2.3457  lr 3.00e-04  5120 tok/s");
  CHECK(job_event_line(json::parse(
          R"({"seq":8,"type":"step","step":5,"max_steps":50,
              "train_loss":3.5})"))
        == "step        5/50  loss 3.5000");
  CHECK(job_event_line(json::parse(
          R"({"seq":9,"type":"eval","created_at":1,"step":200,
              "val_loss":2.12341,"perplexity":8.4})"))
        == "eval        step 200  val loss 2.1234");
  CHECK(job_event_line(json::parse(
          R"({"seq":10,"type":"checkpoint","created_at":1,"step":200})"))
        == "checkpoint  step 200");
  CHECK(job_event_line(json::parse(
          R"({"seq":1,"type":"status","created_at":1,"status":"running"})"))
        == "status      running");
  CHECK(job_event_line(json::parse(
          R"({"type":"status","status":"succeeded",
              "result_model_id":"mdl_9"})"))
        == "status      succeeded  model mdl_9");
  CHECK(job_event_line(json::parse(
          R"({"type":"status","status":"failed",
              "error":{"message":"loss is nan","type":"job_failed"}})"))
        == "status      failed: loss is nan");
  CHECK(job_event_line(json::parse(
          R"({"type":"status","status":"failed","error":"out of memory"})"))
        == "status      failed: out of memory");
}

TEST_CASE("job event lines survive odd events", "[unit]") {
  CHECK(job_event_line(json::parse(
          R"({"seq":3,"type":"log","message":"red\u001b[31m\nline"})"))
        == "log         red?[31m?line");
  CHECK(job_event_line(json::parse(
          R"({"seq":4,"type":"log","message":"loss is nan","level":"error"})"))
        == "log         error: loss is nan");
  CHECK(job_event_line(json::parse(
          R"({"seq":5,"type":"log","message":"training started","step":0,
              "max_steps":6,"device":"cpu"})"))
        == "log         training started");
  CHECK(job_event_line(json::parse(
          R"({"seq":2,"type":"start","created_at":1,"params":1024})"))
        == "start       {\"params\":1024}");
  CHECK(job_event_line(json::parse(
          R"({"type":"step","step":"x","train_loss":null,"lr":"fast"})"))
        == "step        ?");
  CHECK(job_event_line(json::parse(R"({"type":"eval"})"))
        == "eval        val loss ?");
  CHECK(job_event_line(json::parse(R"({"type":7})")) == "event       {}");
  CHECK(job_event_line(json::parse("[1]")).empty());
}

TEST_CASE("job_event_follower prints each event once across reconnects",
          "[unit]") {
  std::ostringstream out;
  job_event_follower follower(out, false, 10);
  follower.reconnect();
  follower.feed(frame({{"seq", 1}, {"type", "status"},
                       {"status", "running"}}));
  follower.feed(frame({{"seq", 2}, {"type", "step"}, {"step", 1},
                       {"train_loss", 4.0}})
                + ": ping\n\ndata: {\"seq\":3,\"ty");
  CHECK(follower.progressed());
  CHECK(follower.final_status().empty());

  // The next connection replays from the start; the cut event comes again.
  follower.reconnect();
  CHECK_FALSE(follower.progressed());
  follower.feed(frame({{"seq", 1}, {"type", "status"},
                       {"status", "running"}})
                + frame({{"seq", 2}, {"type", "step"}, {"step", 1},
                         {"train_loss", 4.0}}));
  CHECK_FALSE(follower.progressed());
  follower.feed(frame({{"seq", 3}, {"type", "eval"}, {"step", 1},
                       {"val_loss", 3.9}})
                + frame({{"seq", 4}, {"type", "status"},
                         {"status", "failed"}, {"error", "boom"}}));
  CHECK(follower.progressed());
  CHECK(follower.final_status() == "failed");
  CHECK(out.str()
        == "status      running\n"
           "step        1/10  loss 4.0000\n"
           "eval        step 1  val loss 3.9000\n"
           "status      failed: boom\n");
  CHECK(chat::cli::job_exit_code(follower.final_status()) == 1);
  CHECK(chat::cli::job_exit_code("succeeded") == 0);
}

TEST_CASE("job_event_follower passes events through as JSON lines",
          "[unit]") {
  std::ostringstream out;
  job_event_follower follower(out, true, 0);
  follower.feed("data: not json\n\n"
                + frame({{"seq", 1}, {"type", "status"},
                         {"status", "cancelled"}}));
  CHECK(out.str() == "{\"seq\":1,\"status\":\"cancelled\",\"type\":"
                     "\"status\"}\n");
  CHECK(follower.final_status() == "cancelled");
  CHECK(chat::cli::is_final_job_status("succeeded"));
  CHECK_FALSE(chat::cli::is_final_job_status("preparing"));
}

TEST_CASE("job_event_follower learns max_steps from the trainer's start",
          "[unit]") {
  std::ostringstream out;
  job_event_follower follower(out, false, 0);
  follower.feed(frame({{"seq", 1}, {"type", "step"}, {"step", 1}})
                + frame({{"seq", 2},
                         {"type", "log"},
                         {"message", "training started"},
                         {"max_steps", 6}})
                + frame({{"seq", 3}, {"type", "step"}, {"step", 2}}));
  CHECK(out.str()
        == "step        1\n"
           "log         training started\n"
           "step        2/6\n");
}
