// chatctl's datasets, jobs and models commands against a real chatd (and
// its workers and trainers).

#include "service_harness.hpp"
#include "storage/ids.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

using chat::testing::chatd_process;
using chat::testing::chatctl_env;
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

TEST_CASE("chatctl help covers the datasets, jobs and models commands",
          "[integration]") {
  chat::testing::temp_dir dir;
  auto top = chat::testing::run_chatctl(dir.path, "--help");
  CHECK(top.rc == 0);
  for (const char* word : {"datasets upload", "jobs submit", "models list"})
    CHECK(top.output.find(word) != std::string::npos);
  for (const char* command : {"datasets", "jobs", "models"}) {
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
