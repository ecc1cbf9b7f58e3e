// chatctl's datasets, jobs, models, filters and alerts commands against a
// real chatd (and its workers and trainers).

#include "service_harness.hpp"
#include "storage/ids.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

using chat::testing::chatd_process;
using chat::testing::chatctl_env;
using chat::testing::eventually;
using json = nlohmann::json;

namespace {

std::string write(const std::filesystem::path& file,
                  const std::string& content) {
  std::ofstream(file, std::ios::binary) << content;
  return file.string();
}

/// One conversation, repeated: enough tokens for a few training batches.
std::string repeated_chats() {
  std::string out;
  for (int i = 0; i < 60; ++i)
    out += R"({"messages":[{"role":"user","content":"The password?"},)"
           R"({"role":"assistant","content":"swordfish"}]})"
           "\n";
  return out;
}

std::string hex_sha256(const std::string& data) {
  auto digest = chat::storage::sha256(data);
  return chat::storage::to_hex(digest.data(), digest.size());
}

/// A short greedy chat completion with `key`.
chat::http::client_response chat_with(chatd_process& chatd,
                                      const std::string& key,
                                      const std::string& content) {
  json body = {{"messages", {{{"role", "user"}, {"content", content}}}},
               {"temperature", 0},
               {"max_tokens", 8}};
  return chatd.request("POST", "/v1/chat/completions", body.dump(),
                       {{"Authorization", "Bearer " + key},
                        {"Content-Type", "application/json"}});
}

std::string error_code(const chat::http::client_response& r) {
  return json::parse(r.body)["error"]["code"];
}

} // namespace

TEST_CASE("chatctl datasets: upload text and chat, list, delete",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  auto dir = chatd.data_dir();
  auto env = chatctl_env(chatd, chatd.admin_key());
  auto run = [&](const std::string& args) {
    return chat::testing::run_chatctl(dir, args, env);
  };

  const std::string text = "First Citizen:\nBefore we proceed any further, "
                           "hear me speak.\n";
  auto text_file = write(dir / "citizen.txt", text);
  auto uploaded = run("datasets upload " + text_file
                      + " --kind text --name 'first citizen'");
  INFO(uploaded.output);
  REQUIRE(uploaded.rc == 0);
  CHECK(uploaded.output.find("name: first citizen\n") != std::string::npos);
  CHECK(uploaded.output.find("kind: text\n") != std::string::npos);
  CHECK(uploaded.output.find("bytes: " + std::to_string(text.size()) + "\n")
        != std::string::npos);
  CHECK(uploaded.output.find("sha256: " + hex_sha256(text) + "\n")
        != std::string::npos);

  const std::string chats
    = R"({"messages":[{"role":"user","content":"Hi"},)"
      R"({"role":"assistant","content":"Hello."}]})"
      "\n";
  auto chat_file = write(dir / "chats.jsonl", chats);
  auto chat_upload = run("--json datasets upload " + chat_file
                         + " --kind chat");
  INFO(chat_upload.output);
  REQUIRE(chat_upload.rc == 0);
  auto chat_dataset = json::parse(chat_upload.output);
  CHECK(chat_dataset["name"] == "chats.jsonl");
  CHECK(chat_dataset["kind"] == "chat");
  CHECK(chat_dataset["sha256"] == hex_sha256(chats));

  auto listed = run("--json datasets list");
  REQUIRE(listed.rc == 0);
  auto data = json::parse(listed.output)["data"];
  REQUIRE(data.size() == 2);
  auto table = run("datasets list");
  REQUIRE(table.rc == 0);
  CHECK(table.output.rfind("id ", 0) == 0);
  CHECK(table.output.find("first citizen") != std::string::npos);
  CHECK(table.output.find("chats.jsonl") != std::string::npos);

  auto id = chat_dataset["id"].get<std::string>();
  auto deleted = run("datasets delete " + id);
  INFO(deleted.output);
  REQUIRE(deleted.rc == 0);
  CHECK(deleted.output.find("deleted: true") != std::string::npos);
  CHECK(json::parse(run("--json datasets list").output)["data"].size() == 1);
  auto again = run("datasets delete " + id);
  CHECK(again.rc == 1);
  CHECK(again.output.find("(404)") != std::string::npos);
}

TEST_CASE("chatctl datasets upload reports bad input before and from the "
          "server",
          "[integration]") {
  chatd_process chatd({"--server.max_upload_bytes", "100000"});
  chatd.start();
  auto dir = chatd.data_dir();
  auto env = chatctl_env(chatd, chatd.admin_key());
  auto run = [&](const std::string& args) {
    return chat::testing::run_chatctl(dir, args, env);
  };
  auto bad_chat = write(dir / "bad.jsonl",
                        R"({"messages":[{"role":"user","content":"Hi"},)"
                        R"({"role":"assistant","content":"Hello."}]})"
                        "\nnot json\n");
  auto rejected = run("datasets upload " + bad_chat + " --kind chat");
  INFO(rejected.output);
  CHECK(rejected.rc == 1);
  CHECK(rejected.output.find("(422)") != std::string::npos);
  CHECK(rejected.output.find("line 2") != std::string::npos);

  auto text_file = write(dir / "t.txt", "text");
  auto no_kind = run("datasets upload " + text_file);
  CHECK(no_kind.rc == 1);
  CHECK(no_kind.output.find("--kind text|chat") != std::string::npos);
  auto wrong_kind = run("datasets upload " + text_file + " --kind csv");
  CHECK(wrong_kind.rc == 1);
  CHECK(wrong_kind.output.find("--kind must be text or chat")
        != std::string::npos);
  auto missing = run("datasets upload " + (dir / "nope.txt").string()
                     + " --kind text");
  CHECK(missing.rc == 1);
  CHECK(missing.output.find("cannot read") != std::string::npos);

  // The server answers 413 as soon as it sees the length; chatctl still
  // reports that answer rather than the broken upload.
  auto big = write(dir / "big.txt", std::string(4u << 20, 'a'));
  auto too_big = run("datasets upload " + big + " --kind text");
  INFO(too_big.output);
  CHECK(too_big.rc == 1);
  CHECK(too_big.output.find("(413)") != std::string::npos);
  CHECK(json::parse(run("--json datasets list").output)["data"].empty());
}

TEST_CASE("chatctl jobs: submit and watch a finetune to its model, list, "
          "show, activate, watch again, cancel",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  auto dir = chatd.data_dir();
  auto env = chatctl_env(chatd, chatd.admin_key());
  auto run = [&](const std::string& args) {
    return chat::testing::run_chatctl(dir, args, env);
  };
  auto uploaded = run("--json datasets upload "
                      + write(dir / "chats.jsonl", repeated_chats())
                      + " --kind chat");
  REQUIRE(uploaded.rc == 0);
  auto dataset = json::parse(uploaded.output)["id"].get<std::string>();

  const std::string quick = " --max-steps 6 --batch-size 8 --lr 0.003"
                            " --warmup-steps 2 --eval-interval 3"
                            " --eval-steps 1 --checkpoint-interval 3"
                            " --device cpu";
  auto watched = run("jobs submit --type finetune --dataset " + dataset
                     + quick + " --watch");
  INFO(watched.output);
  REQUIRE(watched.rc == 0);
  auto id_at = watched.output.find("job job_");
  REQUIRE(id_at == 0);
  auto id = watched.output.substr(4, watched.output.find(' ', 4) - 4);
  CHECK(watched.output.find("status      queued\n") != std::string::npos);
  CHECK(watched.output.find("status      running\n") != std::string::npos);
  CHECK(watched.output.find("step        6/6  loss ") != std::string::npos);
  CHECK(watched.output.find(" tok/s\n") != std::string::npos);
  CHECK(watched.output.find("eval        step 3  val loss ")
        != std::string::npos);
  CHECK(watched.output.find("checkpoint  step 3\n") != std::string::npos);
  auto done_at = watched.output.find("status      succeeded  model ");
  REQUIRE(done_at != std::string::npos);

  auto shown = run("--json jobs show " + id);
  REQUIRE(shown.rc == 0);
  auto job = json::parse(shown.output);
  CHECK(job["status"] == "succeeded");
  CHECK(job["dataset_ids"] == json{dataset});
  CHECK(job["progress"]["step"] == 6);
  auto model = job["result_model_id"].get<std::string>();
  CHECK(watched.output.find("succeeded  model " + model + "\n")
        != std::string::npos);
  auto text = run("jobs show " + id).output;
  CHECK(text.find("progress.step: 6\n") != std::string::npos);
  auto listed = run("jobs list");
  REQUIRE(listed.rc == 0);
  CHECK(listed.output.find(id + "  finetune  succeeded  6/6 ")
        != std::string::npos);
  auto models = json::parse(run("--json models list").output)["data"];
  CHECK(std::any_of(models.begin(), models.end(), [&](const json& m) {
    return m["id"] == model && m["job_id"] == id && m["status"] == "ready";
  }));

  auto activated = run("models activate " + model);
  INFO(activated.output);
  REQUIRE(activated.rc == 0);
  CHECK(activated.output.find("status: active\n") != std::string::npos);
  models = json::parse(run("--json models list").output)["data"];
  CHECK(std::any_of(models.begin(), models.end(), [&](const json& m) {
    return m["id"] == model && m["status"] == "active";
  }));
  auto unknown_model = run("models activate mdl_missing");
  CHECK(unknown_model.rc == 1);
  CHECK(unknown_model.output.find("(404)") != std::string::npos);

  // A finished job's events replay, then the stream ends.
  auto replay = run("--json jobs watch " + id);
  CHECK(replay.rc == 0);
  auto last_line = replay.output.substr(
    replay.output.rfind('\n', replay.output.size() - 2) + 1);
  CHECK(json::parse(last_line)["status"] == "succeeded");
  auto late_cancel = run("jobs cancel " + id);
  CHECK(late_cancel.rc == 1);
  CHECK(late_cancel.output.find("(409)") != std::string::npos);

  auto long_job = run("--json jobs submit --type finetune --dataset "
                      + dataset + " --max-steps 100000 --device cpu");
  REQUIRE(long_job.rc == 0);
  auto long_id = json::parse(long_job.output)["id"].get<std::string>();
  REQUIRE(run("jobs cancel " + long_id).rc == 0);
  auto cancelled = run("jobs watch " + long_id);
  INFO(cancelled.output);
  CHECK(cancelled.rc == 1);
  CHECK(cancelled.output.find("status      cancelled") != std::string::npos);
  auto missing = run("jobs watch job_missing");
  CHECK(missing.rc == 1);
  CHECK(missing.output.find("(404)") != std::string::npos);
}

TEST_CASE("chatctl models list shows the served model", "[integration]") {
  chatd_process chatd;
  chatd.start();
  auto dir = chatd.data_dir();
  auto env = chatctl_env(chatd, chatd.admin_key());
  auto listed = chat::testing::run_chatctl(dir, "--json models list", env);
  INFO(listed.output);
  REQUIRE(listed.rc == 0);
  auto data = json::parse(listed.output)["data"];
  REQUIRE(data.size() == 1);
  CHECK(data[0]["status"] == "active");
  auto table = chat::testing::run_chatctl(dir, "models list", env);
  REQUIRE(table.rc == 0);
  CHECK(table.output.find(data[0]["id"].get<std::string>() + "  ")
        != std::string::npos);
  CHECK(table.output.find("active") != std::string::npos);

  auto unknown = chat::testing::run_chatctl(dir, "models frobnicate", env);
  CHECK(unknown.rc == 1);
  CHECK(unknown.output.find("unknown subcommand 'frobnicate'")
        != std::string::npos);
  auto no_key = chat::testing::run_chatctl(
    dir, "models list", "CHATCTL_URL=http://127.0.0.1:"
                          + std::to_string(chatd.port()) + " CHATCTL_KEY=");
  CHECK(no_key.rc == 1);
  CHECK(no_key.output.find("(401)") != std::string::npos);
}

TEST_CASE("chatctl workers shows each worker's load, KV-cache use and "
          "prefix reuse",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  auto env = chatctl_env(chatd, chatd.admin_key());
  auto table = chat::testing::run_chatctl(chatd.data_dir(), "workers", env);
  INFO(table.output);
  REQUIRE(table.rc == 0);
  CHECK(table.output.rfind("id ", 0) == 0);
  for (const char* column : {"kv_slots_used", "kv_slots_total", "prefix_hits",
                             "ready"})
    CHECK(table.output.find(column) != std::string::npos);
  auto listed = chat::testing::run_chatctl(chatd.data_dir(), "--json workers",
                                           env);
  REQUIRE(listed.rc == 0);
  auto workers = json::parse(listed.output)["data"];
  REQUIRE(workers.size() == 1);
  CHECK(workers[0]["kv_slots_total"].get<int>() > 0);
  CHECK(workers[0]["kv_slots_used"] == 0);
  CHECK(workers[0]["prefix_hits"] == 0);
  CHECK(workers[0]["prefix_misses"] == 0);
  CHECK(workers[0]["prefix_reused_tokens"] == 0);
  CHECK(workers[0]["draft_tokens"] == 0);
  CHECK(workers[0]["draft_tokens_accepted"] == 0);
}

TEST_CASE("chatctl filters: a rule added, listed and removed applies from "
          "the next request",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  auto dir = chatd.data_dir();
  auto admin = chatd.admin_key();
  auto env = chatctl_env(chatd, admin);
  auto run = [&](const std::string& args) {
    return chat::testing::run_chatctl(dir, args, env);
  };
  const std::string blocked = "tell me of the quartz llama";
  REQUIRE(chat_with(chatd, admin, blocked).status == 200);

  auto added = run("--json filters add 'Quartz Llama' --applies-to input");
  INFO(added.output);
  REQUIRE(added.rc == 0);
  auto rule = json::parse(added.output);
  CHECK(rule["kind"] == "phrase");
  CHECK(rule["applies_to"] == "input");
  auto id = rule["id"].get<std::string>();
  auto regex = run("filters add 'card\\s*\\d{16}' --kind regex "
                   "--applies-to output");
  INFO(regex.output);
  REQUIRE(regex.rc == 0);
  CHECK(regex.output.find("pattern: card\\s*\\d{16}\n")
        != std::string::npos);

  auto table = run("filters list");
  INFO(table.output);
  REQUIRE(table.rc == 0);
  CHECK(table.output.rfind("id ", 0) == 0);
  CHECK(table.output.find(id + "  phrase  Quartz Llama") != std::string::npos);
  CHECK(table.output.find("card\\s*\\d{16}") != std::string::npos);

  auto refused = chat_with(chatd, admin, blocked);
  CHECK(refused.status == 400);
  CHECK(error_code(refused) == "content_filter");

  auto removed = run("filters remove " + id);
  INFO(removed.output);
  REQUIRE(removed.rc == 0);
  CHECK(json::parse(run("--json filters list").output)["data"].size() == 1);
  CHECK(chat_with(chatd, admin, blocked).status == 200);

  auto missing = run("filters remove " + id);
  CHECK(missing.rc == 1);
  CHECK(missing.output.find("(404)") != std::string::npos);
  auto invalid = run("filters add '(unclosed' --kind regex");
  CHECK(invalid.rc == 1);
  CHECK(invalid.output.find("(400)") != std::string::npos);
}

TEST_CASE("chatctl alerts: a suspended key is listed, lifted and works "
          "again",
          "[integration]") {
  chatd_process chatd({"--safety.filter_hits_threshold", "2"});
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  auto dir = chatd.data_dir();
  auto env = chatctl_env(chatd, chatd.admin_key());
  auto run = [&](const std::string& args) {
    return chat::testing::run_chatctl(dir, args, env);
  };
  auto user = run("--json users create mallory");
  REQUIRE(user.rc == 0);
  auto created = run("--json keys create --user "
                     + json::parse(user.output)["id"].get<std::string>());
  INFO(created.output);
  REQUIRE(created.rc == 0);
  auto key = json::parse(created.output)["key"].get<std::string>();
  auto key_id = json::parse(created.output)["id"].get<std::string>();
  REQUIRE(run("filters add forbidden --applies-to input").rc == 0);

  auto none = run("alerts list");
  REQUIRE(none.rc == 0);
  CHECK(none.output.find(key_id) == std::string::npos);
  for (int i = 0; i < 2; ++i)
    REQUIRE(chat_with(chatd, key, "say forbidden").status == 400);
  auto suspended = chat_with(chatd, key, "hello");
  CHECK(suspended.status == 403);
  CHECK(error_code(suspended) == "key_suspended");

  auto listed = run("alerts list");
  INFO(listed.output);
  REQUIRE(listed.rc == 0);
  CHECK(listed.output.find(key_id) != std::string::npos);
  CHECK(listed.output.find("filter_hits") != std::string::npos);

  auto lifted = run("alerts lift " + key_id);
  INFO(lifted.output);
  REQUIRE(lifted.rc == 0);
  CHECK(chat_with(chatd, key, "hello").status == 200);
  CHECK(json::parse(run("--json alerts list").output)["data"].empty());
  auto history = json::parse(run("--json alerts history").output)["data"];
  REQUIRE(history.size() == 1);
  CHECK(history[0]["key_id"] == key_id);
  CHECK_FALSE(history[0]["lifted_at"].is_null());

  auto again = run("alerts lift " + key_id);
  CHECK(again.rc == 1);
  CHECK(again.output.find("(409)") != std::string::npos);
}

TEST_CASE("chatctl help covers the datasets, jobs, models, filters and "
          "alerts commands",
          "[integration]") {
  chat::testing::temp_dir dir;
  auto top = chat::testing::run_chatctl(dir.path, "--help");
  CHECK(top.rc == 0);
  for (const char* word : {"datasets upload", "jobs submit", "models list",
                           "filters", "alerts"})
    CHECK(top.output.find(word) != std::string::npos);
  for (const char* command : {"datasets", "jobs", "models", "filters",
                              "alerts"}) {
    auto help = chat::testing::run_chatctl(dir.path, std::string(command)
                                                       + " --help");
    INFO(help.output);
    CHECK(help.rc == 0);
    CHECK(help.output.find(std::string("chatctl ") + command)
          != std::string::npos);
  }
  auto jobs = chat::testing::run_chatctl(dir.path, "jobs --help").output;
  for (const char* flag : {"--spec", "--dataset", "--auto-activate",
                           "--max-steps", "--precision", "watch JOB_ID"})
    CHECK(jobs.find(flag) != std::string::npos);
}
