// Hot swap of model versions against a real chatd + chat-worker on loopback
// (issue 6): activating a registered model while 8 streams run in a loop
// fails none of them, later greedy answers come from the new model and its
// tokenizer (another vocabulary) without restarting a process, and
// activating the previous model rolls back.

#include "service_harness.hpp"
#include "stream_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <thread>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::http_stream;
using json = nlohmann::json;

namespace {

const std::string model_a = "tiny-model";
const std::string model_b = "tiny-model-b";
constexpr int streams = 8;

std::string read_key(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string key;
  in >> key;
  return key;
}

/// chatd on a data directory that outlives it, serving `model_dir`.
std::vector<std::string> flags(const std::filesystem::path& data_dir,
                               const std::string& model_dir) {
  return {"--data-dir", data_dir.string(), "--model.path", model_dir};
}

json chat_body(bool stream) {
  return {{"messages", json::array({{{"role", "user"},
                                     {"content", "What is 12+30?"}}})},
          {"stream", stream},
          {"temperature", 0},
          {"max_tokens", 12}};
}

/// A running chatd with the admin key, as its clients see it.
struct client {
  chatd_process& chatd;
  std::string key;

  chat::http::header_map auth() const {
    return {{"Authorization", "Bearer " + key},
            {"Content-Type", "application/json"}};
  }

  chat::http::client_response call(const std::string& method,
                                   const std::string& target,
                                   const std::string& body = {}) {
    return chatd.request(method, target, body, auth());
  }

  json get(const std::string& target) {
    auto r = call("GET", target);
    INFO(target << ": " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  /// The greedy answer to the fixed question.
  std::string answer() {
    auto r = call("POST", "/v1/chat/completions", chat_body(false).dump());
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body)["choices"][0]["message"]["content"];
  }

  /// One streamed completion read to its end; true when it ended well.
  bool stream_once() {
    try {
      http_stream s(chatd.port(), "POST", "/v1/chat/completions",
                    chat_body(true).dump(),
                    {{"Authorization", "Bearer " + key},
                     {"Content-Type", "application/json"}});
      if (s.status() != 200)
        return false;
      const auto raw = s.read_all();
      return raw.size() >= 14
             && raw.compare(raw.size() - 14, 14, "data: [DONE]\n\n") == 0
             && raw.find("\"error\"") == std::string::npos;
    } catch (const std::exception&) {
      return false;
    }
  }

  chat::http::client_response activate(const std::string& id,
                                       const std::string& body = {}) {
    return call("POST", "/admin/models/" + id + "/activate", body);
  }

  std::string status_of(const std::string& id) {
    const auto models = get("/admin/models");
    for (const auto& m : models["data"])
      if (m["id"] == id)
        return m["status"];
    return "missing";
  }
};

} // namespace

TEST_CASE("activating a model hot-swaps the workers under load and "
          "activating the previous one rolls back",
          "[integration]") {
  chat::testing::temp_dir data;
  // chatd registers the model it starts with: first B, then A (active).
  {
    chatd_process first(flags(data.path, CHAT_TINY_MODEL_B_DIR));
    first.start();
    REQUIRE(eventually([&] { return first.get("/readyz").status == 200; }));
    REQUIRE(first.stop(SIGTERM, std::chrono::seconds(20)) == 0);
  }
  chatd_process chatd(flags(data.path, CHAT_TINY_MODEL_DIR));
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  client svc{chatd, read_key(data.path / "admin.key")};
  REQUIRE_FALSE(svc.key.empty());
  CHECK(svc.status_of(model_a) == "active");
  CHECK(svc.status_of(model_b) == "ready");
  const auto workers = svc.get("/admin/workers")["data"];
  REQUIRE(workers.size() == 1);
  const auto worker_pid = workers[0]["pid"];
  CHECK(workers[0]["model_id"] == model_a);
  const auto answer_a = svc.answer();

  // 8 streaming loops run through the swap.
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, done{0};
  std::vector<std::thread> loops;
  for (int i = 0; i < streams; ++i)
    loops.emplace_back([&] {
      client mine{chatd, svc.key};
      while (!stop) {
        if (!mine.stream_once())
          ++failures;
        ++done;
      }
    });
  REQUIRE(eventually([&] { return done >= streams; }));
  auto swapped = svc.activate(model_b);
  const int done_at_swap = done;
  REQUIRE(eventually([&] { return done >= done_at_swap + 2 * streams; }));
  stop = true;
  for (auto& t : loops)
    t.join();
  INFO(swapped.body);
  REQUIRE(swapped.status == 200);
  CHECK(json::parse(swapped.body)["id"] == model_b);
  CHECK(json::parse(swapped.body)["status"] == "active");
  CHECK(failures == 0);

  const auto answer_b = svc.answer();
  CHECK(answer_b != answer_a);
  CHECK(svc.status_of(model_a) == "ready");
  CHECK(svc.status_of(model_b) == "active");
  const auto listed = svc.get("/v1/models")["data"];
  CHECK(std::any_of(listed.begin(), listed.end(),
                    [](const json& m) { return m["id"] == model_b; }));
  CHECK(std::none_of(listed.begin(), listed.end(),
                     [](const json& m) { return m["id"] == model_a; }));
  const auto after = svc.get("/admin/workers")["data"];
  REQUIRE(after.size() == 1);
  CHECK(after[0]["model_id"] == model_b);
  CHECK(after[0]["pid"] == worker_pid);

  // Rollback: the previous model, still loaded on the worker.
  auto back = svc.activate(model_a, "{}");
  INFO(back.body);
  REQUIRE(back.status == 200);
  CHECK(svc.answer() == answer_a);
  CHECK(svc.status_of(model_a) == "active");
  CHECK(svc.get("/admin/workers")["data"][0]["model_id"] == model_a);

  // Unknown ids and bodies that are not a JSON object change nothing.
  CHECK(svc.activate("no-such-model").status == 404);
  CHECK(svc.activate(model_b, "[1]").status == 400);
  CHECK(svc.status_of(model_a) == "active");
}
