// Prompt filter and abuse detection (issue 11) against a real chatd +
// chat-worker on loopback with the tiny model.

#include "service_harness.hpp"
#include "stream_client.hpp"
#include "storage/audit_log.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::http_stream;
using chat::testing::sse_reader;
using chat::testing::ws_client;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string question = "What is 37+45?";

/// A chatd (ready unless it runs without workers) with its admin key and
/// helpers for JSON calls.
struct service {
  chatd_process chatd;
  std::string admin;

  enum class workers { wait_ready, none };

  explicit service(std::vector<std::string> flags = {},
                   workers wait = workers::wait_ready)
    : chatd(std::move(flags)) {
    chatd.start();
    if (wait == workers::wait_ready)
      REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
    admin = chatd.admin_key();
    REQUIRE_FALSE(admin.empty());
  }

  static chat::http::header_map auth(const std::string& key) {
    return {{"Authorization", "Bearer " + key},
            {"Content-Type", "application/json"}};
  }

  chat::http::client_response call(const std::string& key,
                                   const std::string& method,
                                   const std::string& target,
                                   const json& body = nullptr) {
    return chatd.request(method, target, body.is_null() ? "" : body.dump(),
                         auth(key));
  }

  json ok(const std::string& key, const std::string& method,
          const std::string& target, const json& body = nullptr) {
    auto r = call(key, method, target, body);
    INFO(method << " " << target << ": " << r.body);
    REQUIRE(r.status / 100 == 2);
    return json::parse(r.body);
  }

  /// A new user's chat key; `extra` adds fields (token_quota_daily).
  std::pair<std::string, std::string> user_key(const std::string& name,
                                               json extra = json::object()) {
    auto user = ok(admin, "POST", "/admin/users", {{"name", name}});
    extra["user_id"] = user["id"];
    auto key = ok(admin, "POST", "/admin/keys", extra);
    return {key["key"], key["id"]};
  }

  std::string add_rule(const std::string& pattern,
                       const std::string& applies_to,
                       const std::string& kind = "phrase") {
    return ok(admin, "POST", "/admin/filters",
              {{"kind", kind}, {"pattern", pattern},
               {"applies_to", applies_to}})["id"];
  }

  /// Sampling with a fixed seed: the same reply every time, and more
  /// varied than the tiny model's greedy one.
  static json sampling() {
    return {{"temperature", 1.0}, {"seed", 7}, {"max_tokens", 40}};
  }

  static json chat_body(const std::string& content, bool stream) {
    auto body = sampling();
    body["messages"] = json::array({{{"role", "user"}, {"content", content}}});
    body["stream"] = stream;
    return body;
  }

  /// The reply to `question` without any filter.
  std::string sampled_reply(const std::string& key) {
    auto r = ok(key, "POST", "/v1/chat/completions",
                chat_body(question, false));
    return r["choices"][0]["message"]["content"];
  }

  std::string metrics() {
    return chatd.get("/metrics").body;
  }
};

/// A phrase from the middle of `reply`, first seen at its own position, so
/// a filter on it cuts the reply there.
std::pair<std::string, std::size_t> phrase_in(const std::string& reply) {
  REQUIRE(reply.size() >= 16);
  for (std::size_t at = 6; at + 6 <= reply.size(); ++at) {
    auto phrase = reply.substr(at, 6);
    auto lead = static_cast<unsigned char>(phrase[0]);
    if ((lead & 0xC0) != 0x80 && phrase.find_first_not_of(' ') != std::string::npos
        && reply.find(phrase) == at)
      return {phrase, at};
  }
  FAIL("no phrase in the reply: " << reply);
  return {};
}

/// Status of GET /v1/models with `key`, sent from source address `from`.
int status_from(const char* from, std::uint16_t port, const std::string& key) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &local.sin_addr);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote)
          == 0);
  std::string req = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Authorization: Bearer "
                    + key + "\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), 0)
          == static_cast<ssize_t>(req.size()));
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
    answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  REQUIRE(answer.rfind("HTTP/1.1 ", 0) == 0);
  return std::stoi(answer.substr(9, 3));
}

json next_frame(ws_client& ws) {
  auto text = ws.receive(30s);
  REQUIRE(text);
  return json::parse(*text);
}

} // namespace

TEST_CASE("an input rule blocks a request with 400 and stores nothing, "
          "variants are caught, rule changes apply to the next request",
          "[integration]") {
  // Five hits below: keep the key from being suspended for them.
  service svc({"--safety.filter_hits_threshold", "100"});
  auto [key, key_id] = svc.user_key("alice");
  // Allowed before the rule exists.
  svc.ok(key, "POST", "/v1/chat/completions",
         service::chat_body("tell me of the quartz llama", false));
  auto rule = svc.add_rule("Quartz Llama", "input");

  auto blocked = svc.call(key, "POST", "/v1/chat/completions",
                          service::chat_body("tell me of the quartz llama",
                                             false));
  CHECK(blocked.status == 400);
  CHECK(json::parse(blocked.body)["error"]["code"] == "content_filter");
  CHECK(blocked.body.find("llama") == std::string::npos);
  // Full-width "ＱＵＡＲＴＺ" and mixed case.
  auto variant = svc.call(
    key, "POST", "/v1/chat/completions",
    service::chat_body("\xEF\xBC\xB1\xEF\xBC\xB5\xEF\xBC\xA1\xEF\xBC\xB2\xEF"
                       "\xBC\xB4\xEF\xBC\xBA lLaMa please",
                       true));
  CHECK(variant.status == 400);

  auto session = svc.ok(key, "POST", "/api/sessions", {{"title", "t"}});
  std::string sid = session["id"];
  auto in_session = svc.call(key, "POST", "/api/sessions/" + sid + "/messages",
                             {{"content", "the QUARTZ llama"}});
  CHECK(in_session.status == 400);
  CHECK(svc.ok(key, "GET", "/api/sessions/" + sid)["messages"].empty());
  auto sessions_before = svc.ok(key, "GET", "/api/sessions")["data"].size();
  CHECK(svc.call(key, "POST", "/chat", {{"message", "quartz llama"}}).status
        == 400);
  CHECK(svc.ok(key, "GET", "/api/sessions")["data"].size() == sessions_before);

  // WebSocket: an error frame, no start.
  ws_client ws(svc.chatd.port(), "/v1/ws");
  ws.send(json{{"type", "auth"}, {"api_key", key}}.dump());
  REQUIRE(next_frame(ws)["type"] == "ready");
  ws.send(json{{"type", "chat"}, {"id", "c1"}, {"message", "Quartz llama?"}}
            .dump());
  auto frame = next_frame(ws);
  CHECK(frame["type"] == "error");
  CHECK(frame["error"]["code"] == "content_filter");
  CHECK(svc.ok(key, "GET", "/api/sessions")["data"].size() == sessions_before);

  auto metrics = svc.metrics();
  CHECK(metrics.find("chatd_filter_hits_total{rule=\"" + rule
                     + "\",direction=\"input\"} 5")
        != std::string::npos);
  // The log names the rule, never the user's text.
  CHECK(svc.chatd.log().find("llama") == std::string::npos);
  CHECK(svc.chatd.log().find(rule) != std::string::npos);

  svc.ok(svc.admin, "DELETE", "/admin/filters/" + rule);
  CHECK(svc.ok(svc.admin, "GET", "/admin/filters")["data"].empty());
  svc.ok(key, "POST", "/v1/chat/completions",
         service::chat_body("tell me of the quartz llama", false));
}

TEST_CASE("admin filter API validates rules", "[integration]") {
  service svc;
  auto bad = [&](const json& body, const std::string& param) {
    auto r = svc.call(svc.admin, "POST", "/admin/filters", body);
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["error"]["param"] == param);
  };
  bad({{"kind", "regex"}, {"pattern", "(unclosed"}}, "pattern");
  bad({{"kind", "regex"}, {"pattern", "(a)\\1"}}, "pattern");
  bad({{"kind", "glob"}, {"pattern", "x"}}, "kind");
  bad({{"pattern", "x"}, {"applies_to", "everything"}}, "applies_to");
  bad({{"kind", "phrase"}}, "pattern");
  CHECK(svc.call(svc.admin, "DELETE", "/admin/filters/flt_missing").status
        == 404);
  auto [key, key_id] = svc.user_key("bob");
  CHECK(svc.call(key, "GET", "/admin/filters").status == 403);
}

TEST_CASE("an output rule stops the reply mid-stream with content_filter "
          "and stores what was sent, over SSE and WebSocket",
          "[integration]") {
  service svc;
  auto reply = svc.sampled_reply(svc.admin);
  auto [phrase, at] = phrase_in(reply);
  INFO("reply: " << reply << " | phrase: " << phrase);
  auto rule = svc.add_rule(phrase, "output");
  auto sent_prefix = reply.substr(0, at);

  SECTION("OpenAI SSE") {
    http_stream s(svc.chatd.port(), "POST", "/v1/chat/completions",
                  service::chat_body(question, true).dump(),
                  {{"Authorization", "Bearer " + svc.admin},
                   {"Content-Type", "application/json"}});
    REQUIRE(s.status() == 200);
    sse_reader events(s);
    std::string text;
    std::string finish;
    for (const auto& e : events.rest()) {
      if (e.data == "[DONE]")
        break;
      auto j = json::parse(e.data);
      auto& choice = j["choices"][0];
      if (choice["delta"].contains("content"))
        text += choice["delta"]["content"].get<std::string>();
      if (!choice["finish_reason"].is_null())
        finish = choice["finish_reason"];
    }
    CHECK(finish == "content_filter");
    CHECK_FALSE(text.empty());
    CHECK(text.find(phrase) == std::string::npos);
    CHECK(sent_prefix.rfind(text, 0) == 0);
  }

  SECTION("session SSE stores what was sent") {
    auto session = svc.ok(svc.admin, "POST", "/api/sessions", json::object());
    std::string sid = session["id"];
    http_stream s(svc.chatd.port(), "POST", "/api/sessions/" + sid + "/messages",
                  [] {
                    auto body = service::sampling();
                    body["content"] = question;
                    body["stream"] = true;
                    return body.dump();
                  }(),
                  {{"Authorization", "Bearer " + svc.admin},
                   {"Content-Type", "application/json"}});
    REQUIRE(s.status() == 200);
    sse_reader events(s);
    std::string text;
    json done;
    for (const auto& e : events.rest()) {
      if (e.event == "token")
        text += json::parse(e.data)["text"].get<std::string>();
      if (e.event == "done")
        done = json::parse(e.data);
    }
    CHECK(done["finish_reason"] == "content_filter");
    CHECK(text.find(phrase) == std::string::npos);
    auto stored = svc.ok(svc.admin, "GET", "/api/sessions/" + sid);
    REQUIRE(stored["messages"].size() == 2);
    CHECK(stored["messages"][1]["content"] == text);
    CHECK(stored["messages"][1]["finish_reason"] == "content_filter");
  }

  SECTION("WebSocket") {
    ws_client ws(svc.chatd.port(), "/v1/ws");
    ws.send(json{{"type", "auth"}, {"api_key", svc.admin}}.dump());
    REQUIRE(next_frame(ws)["type"] == "ready");
    ws.send(json{{"type", "chat"},
                 {"id", "c1"},
                 {"message", question},
                 {"params", service::sampling()}}
              .dump());
    std::string text;
    std::string sid;
    json done;
    for (;;) {
      auto f = next_frame(ws);
      INFO(f.dump());
      REQUIRE(f["type"] != "error");
      if (f["type"] == "start")
        sid = f["session_id"];
      if (f["type"] == "token")
        text += f["text"].get<std::string>();
      if (f["type"] == "done") {
        done = f;
        break;
      }
    }
    CHECK(done["finish_reason"] == "content_filter");
    CHECK_FALSE(text.empty());
    CHECK(text.find(phrase) == std::string::npos);
    CHECK(sent_prefix.rfind(text, 0) == 0);
    // Stored before `done` is sent.
    auto stored = svc.ok(svc.admin, "GET", "/api/sessions/" + sid);
    REQUIRE(stored["messages"].size() == 2);
    CHECK(stored["messages"][1]["content"] == text);
    CHECK(stored["messages"][1]["finish_reason"] == "content_filter");
  }

  CHECK(svc.metrics().find("chatd_filter_hits_total{rule=\"" + rule
                           + "\",direction=\"output\"} 1")
        != std::string::npos);
}

TEST_CASE("a key over its daily token quota is refused", "[integration]") {
  service svc;
  auto [key, key_id] = svc.user_key("carol", {{"token_quota_daily", 30}});
  svc.ok(key, "POST", "/v1/chat/completions", service::chat_body("Hi", false));
  // The usage is counted when the reply ends; the next request sees it.
  json error;
  REQUIRE(eventually([&] {
    auto r = svc.call(key, "POST", "/v1/chat/completions",
                      service::chat_body("Hi", false));
    if (r.status != 429)
      return false;
    error = json::parse(r.body)["error"];
    return true;
  }));
  CHECK(error["code"] == "token_quota_exceeded");
  CHECK(error["message"].get<std::string>().find("quota") != std::string::npos);
  auto keys = svc.ok(svc.admin, "GET", "/admin/keys");
  bool shown = false;
  for (const auto& k : keys["data"])
    if (k["id"] == key_id)
      shown = k["token_quota_daily"] == 30;
  CHECK(shown);
}

TEST_CASE("a key that trips the filter threshold is suspended, alerted, "
          "audited, and restored when lifted",
          "[integration]") {
  service svc({"--safety.filter_hits_threshold", "3"});
  auto [key, key_id] = svc.user_key("mallory");
  svc.add_rule("forbidden", "input");
  for (int i = 0; i < 3; ++i)
    CHECK(svc.call(key, "POST", "/v1/chat/completions",
                   service::chat_body("say FORBIDDEN", false))
            .status
          == 400);
  auto refused = svc.call(key, "POST", "/v1/chat/completions",
                          service::chat_body("hello", false));
  CHECK(refused.status == 403);
  CHECK(json::parse(refused.body)["error"]["code"] == "key_suspended");

  auto alerts = svc.ok(svc.admin, "GET", "/admin/alerts");
  REQUIRE(alerts["data"].size() == 1);
  CHECK(alerts["data"][0]["key_id"] == key_id);
  CHECK(alerts["data"][0]["signal"] == "filter_hits");
  CHECK(svc.metrics().find("chatd_key_suspensions_total 1")
        != std::string::npos);
  {
    SQLite::Database db((svc.chatd.data_dir() / "chat.db").string(),
                        SQLite::OPEN_READONLY);
    chat::storage::audit_log_repo audit(db);
    bool audited = false;
    for (const auto& e : audit.recent(50))
      audited |= e.key_id == key_id && e.target == key_id
                 && e.action.find("SUSPEND") == 0;
    CHECK(audited);
  }

  // WebSocket: refused too.
  ws_client ws(svc.chatd.port(), "/v1/ws");
  ws.send(json{{"type", "auth"}, {"api_key", key}}.dump());
  auto frame = next_frame(ws);
  CHECK(frame["error"]["code"] == "key_suspended");

  svc.ok(svc.admin, "POST", "/admin/keys/" + key_id + "/unsuspend");
  CHECK(svc.ok(svc.admin, "GET", "/admin/alerts")["data"].empty());
  CHECK(svc.ok(svc.admin, "GET", "/admin/alerts?all=true")["data"].size()
        == 1);
  svc.ok(key, "POST", "/v1/chat/completions",
         service::chat_body("hello", false));
  CHECK(svc.call(svc.admin, "POST", "/admin/keys/" + key_id + "/unsuspend")
          .status
        == 409);
}

TEST_CASE("50 wrong keys from one address get it 429 quickly, other "
          "addresses are unaffected",
          "[integration]") {
  service svc;
  const std::string wrong = "sk-chat-" + std::string(48, '0');
  for (int i = 0; i < 50; ++i)
    REQUIRE(svc.call(wrong, "GET", "/v1/models").status == 401);
  auto start = std::chrono::steady_clock::now();
  auto throttled = svc.call(wrong, "GET", "/v1/models");
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(throttled.status == 429);
  CHECK(json::parse(throttled.body)["error"]["code"]
        == "too_many_auth_failures");
  // Even a valid key from that address waits; the public routes do not.
  CHECK(svc.call(svc.admin, "GET", "/v1/models").status == 429);
  CHECK(svc.chatd.get("/healthz").status == 200);
  CHECK(status_from("127.0.0.2", svc.chatd.port(), svc.admin) == 200);
  CHECK(status_from("127.0.0.2", svc.chatd.port(), wrong) == 401);
  CHECK(svc.metrics().find("chatd_auth_throttled_total 2")
        != std::string::npos);
}

TEST_CASE("a key whose answers are mostly client errors is suspended, "
          "server failures do not count",
          "[integration]") {
  // Without workers every chat request fails with 503: a server failure.
  service svc({"--devices", "", "--safety.error_min_requests", "8",
               "--safety.error_ratio_percent", "75"},
              service::workers::none);
  auto [unlucky, unlucky_id] = svc.user_key("unlucky");
  for (int i = 0; i < 10; ++i)
    REQUIRE(svc.call(unlucky, "POST", "/v1/chat/completions",
                     service::chat_body("Hi", false))
              .status
            == 503);
  // Counted with the 503s, these would be 11 errors in 12 answers.
  CHECK(svc.call(unlucky, "GET", "/api/sessions/ses_missing").status == 404);
  CHECK(svc.call(unlucky, "GET", "/api/sessions").status == 200);

  auto [prober, prober_id] = svc.user_key("prober");
  for (int i = 0; i < 2; ++i)
    REQUIRE(svc.call(prober, "GET", "/api/sessions").status == 200);
  // Below error_min_requests answers nothing is judged; the 8th answer
  // makes 6 errors of 8, the configured 75%.
  for (int i = 0; i < 6; ++i)
    REQUIRE(svc.call(prober, "GET",
                     "/api/sessions/ses_missing" + std::to_string(i))
              .status
            == 404);
  auto refused = svc.call(prober, "GET", "/api/sessions");
  CHECK(refused.status == 403);
  CHECK(json::parse(refused.body)["error"]["code"] == "key_suspended");

  auto alerts = svc.ok(svc.admin, "GET", "/admin/alerts")["data"];
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["key_id"] == prober_id);
  CHECK(alerts[0]["signal"] == "error_ratio");
  CHECK(svc.call(unlucky, "GET", "/api/sessions").status == 200);
}

TEST_CASE("a key refused by its rate limit too often is suspended",
          "[integration]") {
  service svc({"--devices", "", "--safety.rate_limit_hits_threshold", "3"},
              service::workers::none);
  // Two requests a minute: the bucket refills one every 30 s.
  auto [key, key_id] = svc.user_key("hasty", {{"rate_limit_rpm", 2}});
  for (int i = 0; i < 2; ++i)
    REQUIRE(svc.call(key, "GET", "/api/sessions").status == 200);
  for (int i = 0; i < 3; ++i) {
    auto limited = svc.call(key, "GET", "/api/sessions");
    REQUIRE(limited.status == 429);
    CHECK(json::parse(limited.body)["error"]["code"] == "rate_limited");
  }
  auto refused = svc.call(key, "GET", "/api/sessions");
  CHECK(refused.status == 403);
  CHECK(json::parse(refused.body)["error"]["code"] == "key_suspended");
  auto alerts = svc.ok(svc.admin, "GET", "/admin/alerts")["data"];
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["key_id"] == key_id);
  CHECK(alerts[0]["signal"] == "rate_limit_hits");
}
