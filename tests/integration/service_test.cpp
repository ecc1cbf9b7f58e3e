#include "service_harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::json_auth;
using chat::testing::ready;
using chat::testing::process_alive;
using json = nlohmann::json;

namespace {

void check_error_shape(const chat::http::client_response& r, int status,
                       const std::string& code) {
  CHECK(r.status == status);
  CHECK(r.headers.at("content-type") == "application/json");
  auto body = json::parse(r.body);
  CHECK(body["error"]["code"] == code);
  CHECK(body["error"]["message"].is_string());
  CHECK(body["error"]["type"].is_string());
  CHECK(body["error"].contains("param"));
}

} // namespace

TEST_CASE("chatd serves health, becomes ready, survives a killed worker and "
          "stops cleanly",
          "[integration]") {
  chatd_process chatd({"--workers.restart_backoff_ms", "50"});
  chatd.start();

  CHECK(chatd.get("/healthz").status == 200);
  REQUIRE(eventually([&] { return ready(chatd); }));

  auto key_file = chatd.data_dir() / "admin.key";
  struct stat st {};
  REQUIRE(::stat(key_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  check_error_shape(chatd.get("/no/such/route"), 404, "not_found");
  auto wrong_method = chatd.request("POST", "/healthz");
  check_error_shape(wrong_method, 405, "method_not_allowed");
  CHECK(wrong_method.headers.at("allow") == "GET");

  auto pids = chatd.log_values("worker started", "pid");
  REQUIRE(pids.size() == 1);
  int first = std::stoi(pids[0]);
  REQUIRE(::kill(first, SIGKILL) == 0);
  REQUIRE(eventually([&] {
    return chatd.log_values("worker started", "pid").size() == 2
           && chatd.log_values("pool: worker joined", "pid").size() == 2;
  }));
  INFO(chatd.log());
  CHECK(chatd.log().find("worker left") != std::string::npos);
  CHECK(ready(chatd));
  int second = std::stoi(chatd.log_values("worker started", "pid").back());
  CHECK(second != first);

  int status = chatd.stop(SIGTERM, std::chrono::seconds(15));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(eventually([&] { return !process_alive(second); },
                   std::chrono::seconds(5)));
}

TEST_CASE("without workers chatd is alive but not ready, and a worker started "
          "by hand makes it ready",
          "[integration]") {
  chatd_process chatd({"--devices", ""});
  chatd.start();
  CHECK(chatd.get("/healthz").status == 200);
  auto not_ready = chatd.get("/readyz");
  check_error_shape(not_ready, 503, "no_worker_ready");
  CHECK(not_ready.headers.count("retry-after") == 1);

  auto worker = chat::testing::spawn_logged(
    {CHAT_BINARY_DIR "/tools/chat-worker", "--connect",
     chatd.worker_address(), "--name", "by-hand", "--model",
     CHAT_TINY_MODEL_DIR},
    chatd.data_dir() / "worker.log");
  REQUIRE(eventually([&] { return ready(chatd); }));
  CHECK(chatd.log().find("name=by-hand") != std::string::npos);

  // A worker whose chatd goes away exits by itself.
  CHECK(chatd.stop(SIGTERM, std::chrono::seconds(15)) == 0);
  CHECK(eventually([&] { return worker.try_wait().has_value(); },
                   std::chrono::seconds(10)));
}

TEST_CASE("a bad flag stops chatd with a message naming it", "[integration]") {
  chat::testing::temp_dir dir;
  auto log = dir.path / "err.log";
  auto p = chat::testing::spawn_logged(
    {CHAT_BINARY_DIR "/tools/chatd", "--listen", "nowhere"}, log);
  std::optional<int> status;
  REQUIRE(eventually([&] { return (status = p.try_wait()).has_value(); }));
  CHECK(WEXITSTATUS(*status) == 2);
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.find("--listen") != std::string::npos);
}
