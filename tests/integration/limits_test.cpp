// Per-request and per-key limits with real processes: each refusal comes in
// the API's error shape, and requests within the limits (and other keys)
// are served as before.

#include "service_harness.hpp"
#include "stream_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::json_auth;
using chat::testing::ready;
using json = nlohmann::json;

namespace {

json chat_body(const std::string& content, json extra = json::object()) {
  extra["messages"] = {{{"role", "user"}, {"content", content}}};
  return extra;
}

/// A new user's chat key; `fields` adds key fields (max_streams).
std::string user_key(chatd_process& chatd, const std::string& admin,
                     const std::string& name, json fields = json::object()) {
  auto user = chatd.request("POST", "/admin/users",
                            json{{"name", name}}.dump(), json_auth(admin));
  REQUIRE(user.status == 201);
  fields["user_id"] = json::parse(user.body)["id"];
  fields["scopes"] = {"chat"};
  auto key = chatd.request("POST", "/admin/keys", fields.dump(),
                           json_auth(admin));
  REQUIRE(key.status == 201);
  return json::parse(key.body)["key"];
}

/// The error object of an answer in the API's shape.
json error_of(const chat::http::client_response& r) {
  INFO(r.status << " " << r.body);
  auto body = json::parse(r.body);
  REQUIRE(body.contains("error"));
  REQUIRE(body["error"].contains("message"));
  REQUIRE(body["error"].contains("type"));
  return body["error"];
}

} // namespace

TEST_CASE("limits.max_streams_per_key refuses a key's extra concurrent "
          "streams with 429 and Retry-After while other keys stream",
          "[integration]") {
  chatd_process chatd({"--limits.max_streams_per_key", "1"});
  chatd.start();
  REQUIRE(eventually([&] { return ready(chatd); }));
  const auto admin = chatd.admin_key();
  const auto capped = user_key(chatd, admin, "capped");
  // A key's own max_streams takes precedence over the server's default.
  const auto roomy = user_key(chatd, admin, "roomy", {{"max_streams", 8}});
  const chat::http::endpoint gateway{"127.0.0.1", chatd.port()};
  const auto request = chat_body("Hi", {{"max_tokens", 100},
                                        {"ignore_eos", true},
                                        {"temperature", 1.0}});

  // Rounds of concurrent requests from both keys; a round only repeats on a
  // machine fast enough to finish one stream before the next one starts.
  int refused = 0, capped_served = 0, roomy_served = 0;
  std::vector<std::string> unexpected;
  for (int round = 0; round < 10 && refused == 0; ++round) {
    std::mutex m;
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i) {
      const auto& key = i % 2 == 0 ? capped : roomy;
      clients.emplace_back([&, key] {
        auto r = chat::http::fetch(gateway, "POST", "/v1/chat/completions",
                                   request.dump(), json_auth(key));
        std::lock_guard<std::mutex> guard(m);
        if (r.status == 200) {
          ++(key == capped ? capped_served : roomy_served);
        } else if (key == capped && r.status == 429
                   && r.headers.count("retry-after")
                   && json::parse(r.body)["error"]["code"]
                        == "too_many_streams") {
          ++refused;
        } else {
          unexpected.push_back(std::to_string(r.status) + " " + r.body);
        }
      });
    }
    for (auto& t : clients)
      t.join();
  }
  INFO((unexpected.empty() ? std::string() : unexpected.front()));
  CHECK(unexpected.empty());
  CHECK(refused > 0);
  CHECK(capped_served > 0);
  CHECK(roomy_served > 0);
  // Its streams over, the capped key streams again.
  auto again = chatd.request("POST", "/v1/chat/completions",
                             chat_body("Hi", {{"max_tokens", 4}}).dump(),
                             json_auth(capped));
  CHECK(again.status == 200);
}

TEST_CASE("limits.max_sockets_per_key refuses a key's extra WebSocket with "
          "an error frame and close 4429 while other keys connect",
          "[integration]") {
  chatd_process chatd({"--limits.max_sockets_per_key", "2"});
  chatd.start();
  REQUIRE(eventually([&] { return ready(chatd); }));
  const auto admin = chatd.admin_key();
  const auto other = user_key(chatd, admin, "other");
  using chat::testing::ws_client;
  auto open = [&](const std::string& key) {
    auto ws = std::make_unique<ws_client>(
      chatd.port(), "/v1/ws",
      chat::testing::header_pairs{{"Authorization", "Bearer " + key}});
    auto first = ws->receive();
    return std::make_pair(std::move(ws), first);
  };
  auto [one, one_ready] = open(admin);
  auto [two, two_ready] = open(admin);
  REQUIRE(one_ready);
  CHECK(json::parse(*one_ready)["type"] == "ready");
  REQUIRE(two_ready);
  CHECK(json::parse(*two_ready)["type"] == "ready");

  auto [three, refusal] = open(admin);
  REQUIRE(refusal);
  auto error = json::parse(*refusal);
  CHECK(error["type"] == "error");
  CHECK(error["error"]["code"] == "too_many_connections");
  CHECK_FALSE(three->receive());
  CHECK(three->close_code() == std::optional<std::uint16_t>(4429));

  // Another key is not affected, and closing one socket frees its place.
  auto [elsewhere, elsewhere_ready] = open(other);
  REQUIRE(elsewhere_ready);
  CHECK(json::parse(*elsewhere_ready)["type"] == "ready");
  one->close();
  CHECK(eventually([&] {
    auto [again, first] = open(admin);
    return first && json::parse(*first)["type"] == "ready";
  }));
}

TEST_CASE("message length, max_tokens, prompt tokens and header size are "
          "each refused in the API's shape, and requests within them are "
          "served",
          "[integration]") {
  chatd_process chatd({"--limits.max_message_bytes", "64",
                       "--limits.max_tokens", "8",
                       "--limits.max_prompt_tokens", "16",
                       "--server.max_header_bytes", "1024"});
  chatd.start();
  REQUIRE(eventually([&] { return ready(chatd); }));
  const auto key = chatd.admin_key();
  const auto post = [&](const std::string& target, const json& body) {
    return chatd.request("POST", target, body.dump(), json_auth(key));
  };

  // One message: at most 64 bytes, wherever a client sends one.
  auto too_long = post("/v1/chat/completions",
                       chat_body(std::string(65, 'a'), {{"max_tokens", 4}}));
  CHECK(too_long.status == 400);
  CHECK(error_of(too_long)["code"] == "message_too_long");
  CHECK(error_of(too_long)["message"].get<std::string>().find("64")
        != std::string::npos);
  CHECK(post("/v1/completions",
             {{"prompt", std::string(65, 'a')}, {"max_tokens", 4}})
          .status
        == 400);
  auto system = post("/api/sessions", {{"system_prompt", std::string(65, 's')}});
  CHECK(system.status == 400);
  CHECK(error_of(system)["param"] == "system_prompt");
  auto session = post("/api/sessions", {{"system_prompt", "Be brief."}});
  REQUIRE(session.status == 201);
  const std::string session_id = json::parse(session.body)["id"];
  auto turn = post("/api/sessions/" + session_id + "/messages",
                   {{"content", std::string(65, 'a')}});
  CHECK(turn.status == 400);
  CHECK(error_of(turn)["code"] == "message_too_long");
  // Nothing of the refused turn was stored.
  auto stored = chatd.request("GET", "/api/sessions/" + session_id, {},
                              json_auth(key));
  CHECK(json::parse(stored.body)["messages"].empty());
  {
    chat::testing::ws_client ws(chatd.port(), "/v1/ws",
                                {{"Authorization", "Bearer " + key}});
    auto ready_frame = ws.receive();
    REQUIRE(ready_frame);
    REQUIRE(json::parse(*ready_frame)["type"] == "ready");
    ws.send(json{{"type", "chat"}, {"id", "long"},
                 {"message", std::string(65, 'w')}}
              .dump());
    auto frame = ws.receive();
    REQUIRE(frame);
    auto error = json::parse(*frame);
    CHECK(error["type"] == "error");
    CHECK(error["id"] == "long");
    CHECK(error["error"]["code"] == "message_too_long");
    // The socket stays open for the next chat.
    ws.send(json{{"type", "chat"}, {"id", "ok"}, {"message", "Hi"}}.dump());
    std::optional<std::string> last;
    while ((last = ws.receive())
           && json::parse(*last)["type"] != "done"
           && json::parse(*last)["type"] != "error")
      ;
    REQUIRE(last);
    CHECK(json::parse(*last)["type"] == "done");
  }

  // max_tokens: at most 8 asked for, and an open reply stops at 8.
  auto greedy = post("/v1/chat/completions",
                     chat_body("Hi", {{"max_tokens", 9}}));
  CHECK(greedy.status == 400);
  CHECK(error_of(greedy)["param"] == "max_tokens");
  CHECK(post("/v1/chat/completions", chat_body("Hi", {{"max_tokens", 8}}))
          .status
        == 200);
  auto open = post("/v1/chat/completions",
                   chat_body("Hi", {{"ignore_eos", true}}));
  REQUIRE(open.status == 200);
  CHECK(json::parse(open.body)["usage"]["completion_tokens"] == 8);

  // Prompt tokens: a raw prompt past 16 is refused; a chat history past it
  // loses its oldest turns and is served.
  const std::string line = "To be, or not to be, that is the question: "
                           "whether 'tis nobler";
  REQUIRE(line.size() <= 64);
  auto long_prompt = post("/v1/completions",
                          {{"prompt", line}, {"max_tokens", 4}});
  CHECK(long_prompt.status == 400);
  CHECK(error_of(long_prompt)["code"] == "prompt_too_long");
  CHECK(post("/v1/completions", {{"prompt", "To be"}, {"max_tokens", 4}})
          .status
        == 200);
  json history{{"max_tokens", 4}};
  history["messages"] = {{{"role", "user"}, {"content", line}},
                         {{"role", "assistant"}, {"content", line}},
                         {{"role", "user"}, {"content", "Hi"}}};
  auto fitted = post("/v1/chat/completions", history);
  REQUIRE(fitted.status == 200);
  CHECK(json::parse(fitted.body)["usage"]["prompt_tokens"] <= 16);

  // Headers: a block past 1024 bytes gets 431; the next request is served.
  auto padded = chatd.request("GET", "/healthz", {},
                              {{"X-Pad", std::string(2000, 'p')}});
  CHECK(padded.status == 431);
  CHECK(error_of(padded)["code"] == "headers_too_large");
  CHECK(chatd.get("/healthz").status == 200);
}
