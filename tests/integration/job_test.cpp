// Training jobs end to end: real chatd, chat-worker and chat-train
// processes, tiny models, a few steps each.

#include "model/tokenizer/sentencepiece_tokenizer.hpp"
#include "service_harness.hpp"
#include "stream_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::http_stream;
using chat::testing::sse_reader;
using json = nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// One conversation, repeated: enough tokens for a 128-token context split.
std::string secret_word_chats() {
  std::string out;
  for (int i = 0; i < 60; ++i)
    out += R"({"messages":[{"role":"user",)"
           R"("content":"What is the secret word?"},)"
           R"({"role":"assistant","content":"avocado"}]})"
           "\n";
  return out;
}

/// Varied English-like text for a new tokenizer and a short pretraining.
std::string pretrain_text() {
  const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over",
                         "lazy", "dog", "while", "seven", "wizards", "hum",
                         "quietly", "near", "bright", "rivers", "and",
                         "gentle", "hills", "of", "amber", "grain"};
  std::string out;
  unsigned x = 7;
  for (int line = 0; line < 600; ++line) {
    for (int w = 0; w < 10; ++w) {
      x = x * 1103515245u + 12345u;
      out += words[(x >> 16) % (sizeof words / sizeof *words)];
      out += w == 9 ? ".\n" : " ";
    }
  }
  return out;
}

/// Hyperparameters of a fast CPU job.
json quick_hyper(int max_steps, int checkpoint_interval) {
  return {{"max_steps", max_steps},
          {"batch_size", 8},
          {"lr", 0.003},
          {"min_lr", 0.0003},
          {"warmup_steps", 2},
          {"eval_interval", 20},
          {"eval_steps", 2},
          {"checkpoint_interval", checkpoint_interval},
          {"device", "cpu"}};
}

/// A ready chatd with the admin key at hand.
struct service {
  chatd_process chatd;
  std::string key;

  explicit service(std::vector<std::string> flags = {})
    : chatd(std::move(flags)) {
    start();
  }

  void start() {
    chatd.start();
    REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
    key = chatd.admin_key();
    REQUIRE_FALSE(key.empty());
  }

  chat::http::client_response call(const std::string& method,
                                   const std::string& target,
                                   const std::string& body = {},
                                   const std::string& type
                                   = "application/json") {
    return chatd.request(method, target, body,
                         {{"Authorization", "Bearer " + key},
                          {"Content-Type", type}});
  }

  std::string upload(const std::string& kind, const std::string& bytes) {
    auto r = call("POST", "/admin/datasets?name=d&kind=" + kind, bytes,
                  kind == "chat" ? "application/x-ndjson" : "text/plain");
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["id"];
  }

  json submit(const json& body) {
    auto r = call("POST", "/admin/jobs", body.dump());
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body);
  }

  json job(const std::string& id) {
    auto r = call("GET", "/admin/jobs/" + id);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  /// Waits for `id` to reach `status`; fails with the job as seen last.
  json wait_for(const std::string& id, const std::string& status,
                std::chrono::milliseconds deadline = 300s) {
    json seen;
    bool reached = eventually(
      [&] {
        seen = job(id);
        return seen["status"] == status;
      },
      deadline);
    INFO(seen.dump());
    REQUIRE(reached);
    return seen;
  }

  /// Waits until the job has done at least `steps` optimizer steps.
  void wait_for_step(const std::string& id, int steps) {
    json seen;
    bool reached = eventually([&] {
      seen = job(id);
      return seen["progress"]["step"].is_number_integer()
             && seen["progress"]["step"] >= steps;
    }, 300s);
    INFO(seen.dump());
    REQUIRE(reached);
  }

  std::unique_ptr<http_stream> open_events(const std::string& id) {
    auto stream = std::make_unique<http_stream>(
      chatd.port(), "GET", "/admin/jobs/" + id + "/events", "",
      chat::testing::header_pairs{{"Authorization", "Bearer " + key}});
    REQUIRE(stream->status() == 200);
    CHECK(stream->header("content-type").rfind("text/event-stream", 0) == 0);
    return stream;
  }

  /// Every event of the job's SSE stream, which must end by itself.
  std::vector<json> events(const std::string& id) {
    auto stream = open_events(id);
    return rest_of(*stream);
  }

  static std::vector<json> rest_of(http_stream& stream) {
    sse_reader reader(stream);
    std::vector<json> out;
    for (const auto& e : reader.rest(60s))
      out.push_back(json::parse(e.data));
    return out;
  }

  /// The greedy reply to one user message.
  std::string answer(const std::string& question, int max_tokens = 8) {
    auto r = call("POST", "/v1/chat/completions",
                  json{{"messages", {{{"role", "user"}, {"content", question}}}},
                       {"temperature", 0},
                       {"max_tokens", max_tokens}}
                    .dump());
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body)["choices"][0]["message"]["content"];
  }

  json model(const std::string& id) {
    auto models = json::parse(call("GET", "/admin/models").body)["data"];
    for (const auto& m : models)
      if (m["id"] == id)
        return m;
    FAIL("no model " << id);
    return {};
  }
};

/// The pid of the newest chat-train chatd started.
int trainer_pid(const chatd_process& chatd) {
  auto pids = chatd.log_values("jobs: trainer started", "pid");
  REQUIRE_FALSE(pids.empty());
  return std::stoi(pids.back());
}

void check_events_complete(const std::vector<json>& events,
                           const std::string& final_status) {
  REQUIRE_FALSE(events.empty());
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i]["seq"] == i + 1);
    CHECK(events[i]["created_at"].is_number_integer());
  }
  CHECK(events.front()["type"] == "status");
  CHECK(events.front()["status"] == "queued");
  CHECK(events.back()["type"] == "status");
  CHECK(events.back()["status"] == final_status);
}

} // namespace

TEST_CASE("a finetune job learns the secret word, registers its model and "
          "replays its events",
          "[integration]") {
  service svc;
  auto ds = svc.upload("chat", secret_word_chats());

  { // Unknown fields and bad values name the field.
    auto unknown = svc.call("POST", "/admin/jobs",
                            json{{"type", "finetune"},
                                 {"dataset_ids", {ds}},
                                 {"learning_rate", 1}}
                              .dump());
    CHECK(unknown.status == 422);
    CHECK(json::parse(unknown.body)["error"]["param"] == "learning_rate");
    auto bad = svc.call("POST", "/admin/jobs",
                        json{{"type", "finetune"},
                             {"dataset_ids", {ds}},
                             {"hyper", {{"lr", -1}}}}
                          .dump());
    CHECK(bad.status == 422);
    CHECK(json::parse(bad.body)["error"]["param"] == "hyper.lr");
    CHECK(json::parse(bad.body)["error"]["message"].get<std::string>().find(
            "lr")
          != std::string::npos);
    auto missing = svc.call("POST", "/admin/jobs",
                            json{{"type", "finetune"},
                                 {"dataset_ids", {"ds_nonexistent"}}}
                              .dump());
    CHECK(missing.status == 422);
    CHECK(json::parse(missing.body)["error"]["param"] == "dataset_ids");
  }

  auto job = svc.submit({{"type", "finetune"},
                         {"dataset_ids", {ds}},
                         {"hyper", quick_hyper(120, 60)},
                         {"auto_activate", true}});
  CHECK(job["status"] == "queued");
  CHECK(job["base_model_id"] == "tiny-model");
  const std::string id = job["id"];

  auto done = svc.wait_for(id, "succeeded");
  CHECK(done["progress"]["step"] == 120);
  CHECK(done["progress"]["max_steps"] == 120);
  CHECK(done["finished_at"].is_number_integer());
  CHECK(done["error"].is_null());
  const std::string model_id = done["result_model_id"];
  auto model = svc.model(model_id);
  CHECK(model["job_id"] == id);
  CHECK(model["parent_id"] == "tiny-model");
  CHECK(model["n_params"].get<std::int64_t>() > 0);
  CHECK(model["config"]["vocab_size"] == 400);
  CHECK(model["metrics"]["val_loss"].is_number());

  auto events = svc.events(id);
  check_events_complete(events, "succeeded");
  std::set<std::string> types;
  for (const auto& e : events)
    types.insert(e["type"].get<std::string>());
  CHECK(types == std::set<std::string>{"status", "log", "step", "eval",
                                       "checkpoint"});
  for (const auto& e : events)
    if (e["type"] == "step") {
      CHECK(e["train_loss"].is_number());
      CHECK(e["lr"].is_number());
      CHECK(e["tokens_per_sec"].is_number());
    }

  auto metrics = svc.chatd.get("/metrics").body;
  CHECK(metrics.find("chatd_jobs{status=\"succeeded\"} 1")
        != std::string::npos);

  // auto_activate: the same chatd and worker now serve the new model.
  CHECK(model["status"] == "active");
  CHECK(svc.answer("What is the secret word?") == "avocado");
  CHECK(svc.chatd.log_values("worker started", "pid").size() == 1);
  CHECK(events[events.size() - 2]["type"] == "log");
  CHECK(events[events.size() - 2]["message"].get<std::string>().find(
          "activated")
        != std::string::npos);
}

TEST_CASE("streams running while a job's model is activated all complete",
          "[integration]") {
  service svc;
  const auto before = svc.answer("What is the secret word?");
  CHECK(before != "avocado");
  auto ds = svc.upload("chat", secret_word_chats());

  auto job = svc.submit({{"type", "finetune"},
                         {"dataset_ids", {ds}},
                         {"hyper", quick_hyper(120, 60)},
                         {"auto_activate", true}});
  svc.wait_for_step(job["id"], 110);
  // Near the end of training, 8 clients start streaming chats in a loop
  // until after the new model serves; every stream must end with [DONE].
  // (Streaming all along would starve the trainer of both cores.)
  std::atomic<bool> stop{false};
  std::atomic<int> completed{0}, failed{0};
  std::mutex m;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      const json request{
        {"messages", {{{"role", "user"}, {"content", "What is 1+" + std::to_string(c) + "?"}}}},
        {"max_tokens", 16},
        {"temperature", 0},
        {"stream", true}};
      while (!stop) {
        std::string body;
        int status = 0;
        try {
          chat::http::fetch_stream(
            {"127.0.0.1", svc.chatd.port()}, "POST", "/v1/chat/completions",
            request.dump(),
            {{"Authorization", "Bearer " + svc.key},
             {"Content-Type", "application/json"}},
            {[&](int s, const chat::http::header_map&) { status = s; },
             [&](const std::string& data) {
               body += data;
               return true;
             }});
        } catch (const std::exception& e) {
          body += e.what();
        }
        if (status == 200 && body.find("data: [DONE]") != std::string::npos
            && body.find("\"error\"") == std::string::npos) {
          ++completed;
        } else {
          ++failed;
          std::lock_guard<std::mutex> guard(m);
          failures.push_back(std::to_string(status) + " " + body);
        }
      }
    });
  svc.wait_for(job["id"], "succeeded");
  const int at_activation = completed.load();
  // A few more rounds on the new model before the clients stop.
  REQUIRE(eventually([&] { return completed.load() >= at_activation + 16; }));
  stop = true;
  for (auto& t : clients)
    t.join();
  INFO((failures.empty() ? std::string() : failures.front()));
  CHECK(failed.load() == 0);
  CHECK(completed.load() > 16);
  CHECK(svc.answer("What is the secret word?") == "avocado");
}

TEST_CASE("a pretrain job trains a tokenizer of the asked size and a model "
          "with it",
          "[integration]") {
  service svc;
  auto text = svc.upload("text", pretrain_text());
  auto chats = svc.upload("chat", secret_word_chats());
  auto job = svc.submit({{"type", "pretrain"},
                         {"dataset_ids", {text, chats}},
                         {"model",
                          {{"n_layer", 1},
                           {"n_head", 2},
                           {"d_model", 32},
                           {"context", 32},
                           {"vocab_size", 320}}},
                         {"hyper", quick_hyper(6, 6)}});
  auto done = svc.wait_for(job["id"], "succeeded");
  const std::string model_id = done["result_model_id"];
  auto model = svc.model(model_id);
  CHECK(model["parent_id"].is_null());
  CHECK(model["config"]["vocab_size"] == 320);
  CHECK(model["config"]["context"] == 32);
  auto tokenizer = chat::tokenizer::sentencepiece_tokenizer::load(
    (svc.chatd.data_dir() / "models" / model_id / "tokenizer.model").string());
  CHECK(tokenizer.vocab_size() == 320);
  CHECK(tokenizer.decode(tokenizer.encode("the quick brown fox"))
        == "the quick brown fox");

  // Activated, it serves with its own tokenizer and context.
  auto activated = svc.call("POST", "/admin/models/" + model_id + "/activate");
  INFO(activated.body);
  REQUIRE(activated.status == 200);
  CHECK(json::parse(activated.body)["status"] == "active");
  auto models = json::parse(svc.call("GET", "/v1/models").body)["data"];
  CHECK(models[0]["id"] == model_id);
  auto r = svc.call("POST", "/v1/chat/completions",
                    json{{"messages", {{{"role", "user"}, {"content", "the fox"}}}},
                         {"max_tokens", 8},
                         {"temperature", 0}}
                      .dump());
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto reply = json::parse(r.body);
  CHECK(reply["model"] == model_id);
  CHECK(reply["usage"]["completion_tokens"].get<int>() >= 1);
  // The context is now 32 tokens: asking for more is refused by name.
  auto too_many = svc.call("POST", "/v1/chat/completions",
                           json{{"messages", {{{"role", "user"}, {"content", "hi"}}}},
                                {"max_tokens", 40}}
                             .dump());
  CHECK(too_many.status == 400);
  CHECK(json::parse(too_many.body)["error"]["param"] == "max_tokens");

  auto small = svc.call("POST", "/admin/jobs",
                        json{{"type", "pretrain"},
                             {"dataset_ids", {text}},
                             {"model", {{"vocab_size", 100}}}}
                          .dump());
  CHECK(small.status == 422);
  CHECK(json::parse(small.body)["error"]["param"] == "model.vocab_size");
}

TEST_CASE("cancel ends a queued job at once and stops a running one after a "
          "checkpoint",
          "[integration]") {
  service svc;
  auto ds = svc.upload("chat", secret_word_chats());
  json long_job = {{"type", "finetune"},
                   {"dataset_ids", {ds}},
                   {"hyper", quick_hyper(100000, 100000)}};
  const std::string running = svc.submit(long_job)["id"];
  const std::string queued = svc.submit(long_job)["id"];

  auto r = svc.call("POST", "/admin/jobs/" + queued + "/cancel");
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["status"] == "cancelled");
  CHECK(svc.call("POST", "/admin/jobs/" + queued + "/cancel", "{}").status
        == 409);
  check_events_complete(svc.events(queued), "cancelled");

  svc.wait_for_step(running, 2);
  REQUIRE(svc.call("POST", "/admin/jobs/" + running + "/cancel", "{}").status
          == 200);
  auto cancelled = svc.wait_for(running, "cancelled");
  CHECK(cancelled["result_model_id"].is_null());
  bool checkpoint_kept = false;
  for (const auto& entry : fs::directory_iterator(
         svc.chatd.data_dir() / "jobs" / running / "checkpoints"))
    checkpoint_kept = checkpoint_kept
                      || entry.path().filename().string().rfind("step-", 0)
                           == 0;
  CHECK(checkpoint_kept);
  check_events_complete(svc.events(running), "cancelled");
  CHECK(svc.call("POST", "/admin/jobs/job_nonexistent/cancel").status == 404);
}

TEST_CASE("a chat-train killed mid-job fails the job with the reason",
          "[integration]") {
  service svc;
  auto ds = svc.upload("chat", secret_word_chats());
  const std::string id = svc.submit({{"type", "finetune"},
                                     {"dataset_ids", {ds}},
                                     {"hyper", quick_hyper(100000, 100000)}})
                           ["id"];
  svc.wait_for_step(id, 1);
  // Opened while the job runs: the past events, then the live ones.
  auto live = svc.open_events(id);
  REQUIRE(::kill(trainer_pid(svc.chatd), SIGKILL) == 0);
  auto failed = svc.wait_for(id, "failed");
  INFO(failed.dump());
  CHECK(failed["error"].get<std::string>().find("signal KILL")
        != std::string::npos);
  auto events = service::rest_of(*live);
  check_events_complete(events, "failed");
  CHECK(events.back()["error"] == failed["error"]);
}

TEST_CASE("a job interrupted by a killed chatd resumes from its checkpoint "
          "after the restart",
          "[integration]") {
  service svc;
  auto ds = svc.upload("chat", secret_word_chats());
  const std::string id = svc.submit({{"type", "finetune"},
                                     {"dataset_ids", {ds}},
                                     {"hyper", quick_hyper(60, 5)}})["id"];
  svc.wait_for_step(id, 10);
  const int first_trainer = trainer_pid(svc.chatd);
  REQUIRE(svc.chatd.stop(SIGKILL, 10s) != -1);

  svc.start();
  auto done = svc.wait_for(id, "succeeded");
  CHECK(trainer_pid(svc.chatd) != first_trainer);
  auto events = svc.events(id);
  check_events_complete(events, "succeeded");
  int starts = 0;
  bool resumed = false;
  for (const auto& e : events)
    if (e["type"] == "log" && e["message"] == "training started") {
      ++starts;
      resumed = resumed || (e["resumed"] == true && e["step"] >= 5);
    }
  CHECK(starts == 2);
  CHECK(resumed);
  CHECK(svc.model(done["result_model_id"])["job_id"] == id);
}
