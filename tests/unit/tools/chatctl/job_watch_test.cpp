#include "tools/chatctl/job_watch.hpp"

#include "tools/chatctl/cli.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <sstream>

using chat::cli::cli_error;
using chat::cli::follow_job;
using chat::cli::http_error;
using chat::cli::job_source;
using json = nlohmann::json;

namespace {

std::string frame(const json& event) {
  return "data: " + event.dump() + "\n\n";
}

json step(int seq, int n) {
  return {{"seq", seq}, {"type", "step"}, {"step", n}, {"train_loss", 2.5}};
}

json status(int seq, const std::string& s) {
  return {{"seq", seq}, {"type", "status"}, {"status", s}};
}

/// A scripted server: each connection sends its bytes, then ends cleanly
/// or with `failure`; each GET answers the next job (the last one repeats).
struct scripted_server {
  struct connection {
    std::string bytes;
    std::function<void()> failure;
  };
  std::deque<connection> connections;
  std::deque<json> jobs;
  std::chrono::steady_clock::time_point clock;
  std::chrono::seconds per_connection{0};
  int pauses = 0;
  int gets = 0;

  job_source source() {
    job_source s;
    s.get_job = [this] {
      ++gets;
      auto job = jobs.front();
      if (jobs.size() > 1)
        jobs.pop_front();
      return job;
    };
    s.stream_events = [this](const auto& on_data) {
      REQUIRE_FALSE(connections.empty());
      auto c = connections.front();
      connections.pop_front();
      clock += per_connection;
      on_data(c.bytes);
      if (c.failure)
        c.failure();
    };
    s.now = [this] { return clock; };
    s.pause = [this] { ++pauses; };
    return s;
  }
};

json job(const std::string& s, json extra = json::object()) {
  extra["id"] = "job_1";
  extra["status"] = s;
  extra["progress"] = {{"step", 0}, {"max_steps", 4}};
  return extra;
}

} // namespace

TEST_CASE("follow_job prints the events and exits 0 on success", "[unit]") {
  scripted_server server;
  server.jobs = {job("queued")};
  server.connections = {{frame(status(1, "running")) + frame(step(2, 1))
                           + frame(status(3, "succeeded")),
                         nullptr}};
  std::ostringstream out;
  CHECK(follow_job(server.source(), out, false) == 0);
  CHECK(out.str()
        == "status      running\n"
           "step        1/4  loss 2.5000\n"
           "status      succeeded\n");
  CHECK(server.gets == 1);
}

TEST_CASE("follow_job reconnects after a lost connection without repeating "
          "events",
          "[unit]") {
  scripted_server server;
  server.jobs = {job("running")};
  server.connections = {
    {frame(status(1, "running")) + frame(step(2, 1)) + "data: {\"se",
     [] { throw cli_error("cannot reach chatd: connection reset"); }},
    {frame(status(1, "running")) + frame(step(2, 1)) + frame(step(3, 2))
       + frame(status(4, "failed")),
     nullptr}};
  std::ostringstream out;
  CHECK(follow_job(server.source(), out, false) == 1);
  CHECK(out.str()
        == "status      running\n"
           "step        1/4  loss 2.5000\n"
           "step        2/4  loss 2.5000\n"
           "status      failed\n");
  CHECK(server.pauses == 0);
}

TEST_CASE("follow_job ends with the job's status when the stream missed it",
          "[unit]") {
  scripted_server server;
  server.jobs = {job("running"),
                 job("cancelled", {{"error", {{"message", "by admin"}}}})};
  server.connections = {{frame(status(1, "running")), nullptr}};
  std::ostringstream out;
  CHECK(follow_job(server.source(), out, false) == 1);
  CHECK(out.str() == "status      running\nstatus      cancelled: by admin\n");

  scripted_server json_server;
  json_server.jobs = {job("running"),
                      job("succeeded", {{"result_model_id", "mdl_2"}})};
  json_server.connections = {{"", nullptr}};
  std::ostringstream raw;
  CHECK(follow_job(json_server.source(), raw, true) == 0);
  CHECK(json::parse(raw.str())
        == json{{"type", "status"},
                {"status", "succeeded"},
                {"error", nullptr},
                {"result_model_id", "mdl_2"}});
}

TEST_CASE("follow_job passes the server's refusal on", "[unit]") {
  scripted_server server;
  server.jobs = {job("running")};
  server.connections = {
    {"", [] { throw http_error(404, "no job with id 'job_1' (404)"); }}};
  std::ostringstream out;
  CHECK_THROWS_AS(follow_job(server.source(), out, false), http_error);
}

TEST_CASE("follow_job gives up on a stream that keeps ending at once",
          "[unit]") {
  scripted_server server;
  server.jobs = {job("running")};
  // The first connection brings news; the three after it do not.
  for (int i = 0; i < 4; ++i)
    server.connections.push_back(
      {frame(status(1, "running")),
       [] { throw cli_error("cannot reach chatd: end of stream"); }});
  std::ostringstream out;
  CHECK_THROWS_WITH(follow_job(server.source(), out, false),
                    Catch::Contains("keeps ending while the job is running")
                      && Catch::Contains("end of stream"));
  CHECK(server.pauses == 2);
  CHECK(out.str() == "status      running\n");
}

TEST_CASE("follow_job waits through idle timeouts of a queued job",
          "[unit]") {
  scripted_server server;
  server.per_connection = std::chrono::seconds(60);
  server.jobs = {job("queued")};
  for (int i = 0; i < 5; ++i)
    server.connections.push_back(
      {frame(status(1, "queued")),
       [] { throw cli_error("cannot reach chatd: timeout"); }});
  server.connections.push_back(
    {frame(status(1, "queued")) + frame(status(2, "succeeded")), nullptr});
  std::ostringstream out;
  CHECK(follow_job(server.source(), out, false) == 0);
  CHECK(out.str() == "status      queued\nstatus      succeeded\n");
  CHECK(server.pauses == 0);
}
