#include "actors/gateway.hpp"
#include "service_harness.hpp"
#include "stream_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::read_file;
using json = nlohmann::json;

namespace {

chat::http::header_map bearer(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

json call(chatd_process& chatd, const std::string& key,
          const std::string& method, const std::string& target,
          const json& body = nullptr, int expect = 200) {
  auto r = chatd.request(method, target, body.is_null() ? "" : body.dump(),
                         bearer(key));
  INFO(method << " " << target << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == expect);
  return r.body.empty() ? json() : json::parse(r.body);
}

struct user_with_key {
  std::string user_id;
  std::string key_id;
  std::string key;
};

user_with_key make_user(chatd_process& chatd, const std::string& admin,
                        const std::string& name, json key_fields = {}) {
  auto user = call(chatd, admin, "POST", "/admin/users", {{"name", name}}, 201);
  key_fields["user_id"] = user["id"];
  if (!key_fields.contains("scopes"))
    key_fields["scopes"] = {"chat"};
  auto key = call(chatd, admin, "POST", "/admin/keys", key_fields, 201);
  return {user["id"], key["id"], key["key"]};
}

/// The route table as chatd builds it (no actors needed to list it).
std::vector<chat::http::route> route_table() {
  chat::gateway_deps deps;
  deps.status = std::make_shared<chat::service_state>();
  deps.model = std::make_shared<chat::model_slot>(nullptr);
  deps.limiter = std::make_shared<chat::rate_limiter>();
  deps.metrics = std::make_shared<chat::service_metrics>();
  deps.safety = std::make_shared<chat::safety_guard>(chat::safety_config{});
  return chat::make_gateway_routes(deps)->routes();
}

std::string concrete(const std::string& pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      out += "does-not-exist";
      i = pattern.find('}', i);
    } else {
      out += pattern[i];
    }
  }
  return out;
}

} // namespace

TEST_CASE("authorization matrix over every route", "[integration]") {
  // Hundreds of bad keys from one address on purpose: without the
  // failed-authentication throttle, which safety_test covers.
  chatd_process chatd({"--safety.auth_failures_per_address", "0"});
  chatd.start();
  auto admin = chatd.admin_key();
  auto chat_user = make_user(chatd, admin, "matrix-chat");
  auto revoked = make_user(chatd, admin, "matrix-revoked");
  call(chatd, admin, "DELETE", "/admin/keys/" + revoked.key_id);
  auto expired = make_user(chatd, admin, "matrix-expired",
                           {{"expires_at", 1000}});
  const std::string unknown = "sk-chat-" + std::string(48, 'a');

  auto routes = route_table();
  REQUIRE(routes.size() > 10);
  for (const auto& r : routes) {
    auto target = concrete(r.pattern);
    auto status_for = [&](const chat::http::header_map& h) {
      return chatd.request(r.method, target, "{}", h).status;
    };
    INFO(r.method << " " << target);
    if (r.needs == chat::http::access::public_) {
      CHECK(status_for({}) != 401);
      continue;
    }
    CHECK(status_for({}) == 401);
    CHECK(status_for(bearer("not-a-key")) == 401);
    CHECK(status_for({{"Authorization", "Basic abc"}}) == 401);
    CHECK(status_for(bearer(unknown)) == 401);
    CHECK(status_for(bearer(revoked.key)) == 401);
    CHECK(status_for(bearer(expired.key)) == 401);
    auto as_chat = status_for(bearer(chat_user.key));
    auto as_admin = status_for({{"X-API-Key", admin}});
    if (r.needs == chat::http::access::admin) {
      CHECK(as_chat == 403);
    } else {
      CHECK(as_chat != 401);
      CHECK(as_chat != 403);
    }
    CHECK(as_admin != 401);
    CHECK(as_admin != 403);
    CHECK(as_admin < 500);
    CHECK(as_chat < 500);
  }
}

TEST_CASE("users never see each other's sessions", "[integration]") {
  chatd_process chatd;
  chatd.start();
  auto admin = chatd.admin_key();
  auto a = make_user(chatd, admin, "alice");
  auto b = make_user(chatd, admin, "bob");
  auto session = call(chatd, a.key, "POST", "/api/sessions",
                      {{"title", "secret plans"}}, 201);
  std::string path = "/api/sessions/" + session["id"].get<std::string>();

  call(chatd, b.key, "GET", path, nullptr, 404);
  call(chatd, b.key, "PATCH", path, {{"title", "mine now"}}, 404);
  call(chatd, b.key, "POST", path + "/messages", {{"content", "hi"}}, 404);
  call(chatd, b.key, "DELETE", path, nullptr, 404);
  CHECK(call(chatd, b.key, "GET", "/api/sessions")["data"].empty());
  call(chatd, b.key, "POST", "/v1/chat/completions",
       {{"session_id", session["id"]},
        {"messages", {{{"role", "user"}, {"content", "hi"}}}}},
       404);
  auto missing = chatd.request("GET", "/api/sessions/sess_missing", "",
                               bearer(b.key));
  auto foreign = chatd.request("GET", path, "", bearer(b.key));
  CHECK(json::parse(missing.body)["error"]["code"]
        == json::parse(foreign.body)["error"]["code"]);
  CHECK(call(chatd, a.key, "GET", path)["title"] == "secret plans");
}

TEST_CASE("over WebSocket too, a foreign session answers as a missing one",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
  auto admin = chatd.admin_key();
  auto a = make_user(chatd, admin, "ws-alice");
  auto b = make_user(chatd, admin, "ws-bob");
  auto session = call(chatd, a.key, "POST", "/api/sessions",
                      {{"title", "mine"}}, 201);
  chat::testing::ws_client ws(chatd.port(), "/v1/ws");
  ws.send(json{{"type", "auth"}, {"api_key", b.key}}.dump());
  auto ready = json::parse(ws.receive().value());
  REQUIRE(ready["type"] == "ready");
  CHECK(ready["user_id"] == b.user_id);
  auto ask = [&](const std::string& session_id) {
    ws.send(json{{"type", "chat"},
                 {"id", session_id},
                 {"session_id", session_id},
                 {"message", "hello"},
                 {"params", {{"max_tokens", 2}}}}
              .dump());
    return json::parse(ws.receive().value());
  };
  auto foreign = ask(session["id"]);
  auto missing = ask("sess_missing");
  CHECK(foreign["type"] == "error");
  CHECK(foreign["error"]["code"] == "session_not_found");
  CHECK(foreign["error"]["code"] == missing["error"]["code"]);
  CHECK(call(chatd, a.key, "GET",
             "/api/sessions/" + session["id"].get<std::string>())
          ["message_count"]
        == 0);
}

TEST_CASE("a key with 5 requests per minute gets 429 on the 6th, others "
          "are unaffected",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  auto admin = chatd.admin_key();
  auto limited = make_user(chatd, admin, "limited", {{"rate_limit_rpm", 5}});
  auto other = make_user(chatd, admin, "other", {{"rate_limit_rpm", 5}});
  for (int i = 0; i < 5; ++i)
    call(chatd, limited.key, "GET", "/api/sessions");
  auto sixth = chatd.request("GET", "/api/sessions", "", bearer(limited.key));
  CHECK(sixth.status == 429);
  REQUIRE(sixth.headers.count("retry-after") == 1);
  CHECK(std::stoi(sixth.headers.at("retry-after")) >= 1);
  CHECK(json::parse(sixth.body)["error"]["type"] == "rate_limit_error");
  call(chatd, other.key, "GET", "/api/sessions");
  call(chatd, admin, "GET", "/api/sessions");
}

TEST_CASE("a key's secret is stored nowhere: not in the database, the logs "
          "or the audit log",
          "[integration]") {
  chatd_process chatd;
  chatd.start();
  auto admin = chatd.admin_key();
  auto u = make_user(chatd, admin, "carol");
  call(chatd, u.key, "POST", "/api/sessions", {{"title", "x"}}, 201);
  call(chatd, admin, "DELETE", "/admin/keys/" + u.key_id);
  chatd.request("GET", "/api/sessions", "", bearer(u.key));
  auto audit = call(chatd, admin, "GET", "/admin/users");
  (void) audit;
  REQUIRE(chatd.stop(SIGTERM, std::chrono::seconds(15)) == 0);
  std::string everything;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(chatd.data_dir()))
    if (entry.is_regular_file() && entry.path().filename() != "admin.key")
      everything += read_file(entry.path());
  CHECK(everything.find(u.key) == std::string::npos);
  // Not even the part after the visible prefix.
  CHECK(everything.find(u.key.substr(16)) == std::string::npos);
  CHECK(everything.find("POST /admin/keys") != std::string::npos);
}

TEST_CASE("chatctl end to end: bootstrap, user, key, chat, export, revoke",
          "[integration]") {
  chatd_process chatd;
  auto dir = chatd.data_dir();
  auto run = [&](const std::string& args, const std::string& env = "",
                 const std::string& input = "") {
    return chat::testing::run_chatctl(dir, args, env, input);
  };
  auto [rc_boot, boot] = run("bootstrap --data-dir '" + dir.string() + "'");
  REQUIRE(rc_boot == 0);
  auto admin = chatd.admin_key();
  CHECK(boot.find(admin) != std::string::npos);
  chatd.start();
  REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));

  auto env = chat::testing::chatctl_env(chatd, admin);
  auto [rc_user, user_out] = run("--json users create dave", env);
  REQUIRE(rc_user == 0);
  auto user_id = json::parse(user_out)["id"].get<std::string>();
  auto [rc_key, key_out] = run("--json keys create --user " + user_id, env);
  REQUIRE(rc_key == 0);
  auto key = json::parse(key_out);
  auto user_env = chat::testing::chatctl_env(chatd, key["key"]);
  auto [rc_chat, chat_out] = run("chat --max-tokens 5", user_env, "Hello\\n");
  INFO(chat_out);
  REQUIRE(rc_chat == 0);
  CHECK(chat_out.find("session sess_") != std::string::npos);

  auto [rc_list, list_out] = run("--json sessions list --user " + user_id, env);
  REQUIRE(rc_list == 0);
  auto sessions = json::parse(list_out)["data"];
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0]["message_count"] == 2);
  auto [rc_export, export_out] =
    run("sessions export " + sessions[0]["id"].get<std::string>(), env);
  REQUIRE(rc_export == 0);
  CHECK(export_out.find("\"content\":\"Hello\"") != std::string::npos);

  auto [rc_revoke, revoke_out] =
    run("keys revoke " + key["id"].get<std::string>(), env);
  REQUIRE(rc_revoke == 0);
  auto [rc_after, after_out] = run("chat --max-tokens 5", user_env, "Hi\\n");
  CHECK(rc_after != 0);
  CHECK(after_out.find("revoked") != std::string::npos);
}
