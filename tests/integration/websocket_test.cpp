// The WebSocket chat protocol (API.md "WebSocket") against a real chatd +
// chat-worker on loopback with the tiny model (issue 4).

#include "service_harness.hpp"
#include "stream_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>

using chat::testing::chatd_process;
using chat::testing::eventually;
using chat::testing::timeout_error;
using chat::testing::ws_client;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// Close code for a failed authentication (API.md).
constexpr std::uint16_t close_unauthenticated = 4401;

/// Decode steps a sequence may still run after its chat was cancelled. The
/// goal is one; the rest covers the cancel travelling from the socket
/// through chatd to the worker while a step takes about a millisecond.
constexpr int max_steps_to_cancel = 25;

/// A ready chatd with the admin key at hand.
struct service {
  chatd_process chatd;
  std::string key;

  service() {
    chatd.start();
    REQUIRE(eventually([&] { return chatd.get("/readyz").status == 200; }));
    key = chatd.admin_key();
    REQUIRE_FALSE(key.empty());
  }

  chat::http::header_map auth() const {
    return {{"Authorization", "Bearer " + key},
            {"Content-Type", "application/json"}};
  }

  json get(const std::string& target) {
    auto r = chatd.request("GET", target, {}, auth());
    INFO(target << ": " << r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  std::unique_ptr<ws_client> connect(const std::string& target = "/v1/ws",
                                     bool header_auth = false) {
    chat::testing::header_pairs headers;
    if (header_auth)
      headers.emplace_back("Authorization", "Bearer " + key);
    return std::make_unique<ws_client>(chatd.port(), target, headers);
  }

  /// Engine steps logged so far (`engine: step batch=N`, debug level).
  int step_count() const {
    return static_cast<int>(chatd.log_values("engine: step", "batch").size());
  }

  /// Same prompt as a WebSocket chat in a new session: one user message.
  std::string http_reply(const std::string& message, const json& params) {
    json body = params;
    body["messages"] = json::array({{{"role", "user"}, {"content", message}}});
    auto r = chatd.request("POST", "/v1/chat/completions", body.dump(),
                           auth());
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body)["choices"][0]["message"]["content"];
  }

  /// A seed whose sampled reply to `message` runs all `max_tokens`.
  std::uint64_t seed_for_full_length(const std::string& message,
                                     int max_tokens) {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
      json body = {{"messages",
                    json::array({{{"role", "user"}, {"content", message}}})},
                   {"max_tokens", max_tokens},
                   {"temperature", 1.0},
                   {"seed", seed}};
      auto r = chatd.request("POST", "/v1/chat/completions", body.dump(),
                             auth());
      REQUIRE(r.status == 200);
      auto j = json::parse(r.body);
      if (j["choices"][0]["finish_reason"] == "length")
        return seed;
    }
    FAIL("no seed in 1..40 gives a reply of " << max_tokens << " tokens");
    return 0;
  }
};

/// The next frame as JSON; fails the test when the socket closed.
json next_frame(ws_client& ws, std::chrono::milliseconds deadline = 30s) {
  auto text = ws.receive(deadline);
  INFO("close code " << ws.close_code().value_or(0));
  REQUIRE(text);
  INFO("frame: " << *text);
  json frame;
  REQUIRE_NOTHROW(frame = json::parse(*text));
  REQUIRE(frame.is_object());
  REQUIRE(frame["type"].is_string());
  return frame;
}

void expect_pong(ws_client& ws) {
  ws.send(R"({"type":"ping"})");
  auto f = next_frame(ws);
  CHECK(f == json{{"type", "pong"}});
}

json authenticate(ws_client& ws, const std::string& key) {
  ws.send(json{{"type", "auth"}, {"api_key", key}}.dump());
  auto f = next_frame(ws);
  INFO(f.dump());
  REQUIRE(f["type"] == "ready");
  CHECK(f["user_id"].is_string());
  return f;
}

void check_error_frame(json f, const std::string& code,
                       const std::optional<std::string>& id = std::nullopt) {
  INFO(f.dump());
  CHECK(f["type"] == "error");
  REQUIRE(f["error"].is_object());
  CHECK(f["error"]["code"] == code);
  CHECK(f["error"]["message"].is_string());
  CHECK(f["error"]["type"].is_string());
  if (id)
    CHECK(f["id"] == *id);
}

/// One chat as seen on the socket.
struct chat_seen {
  std::vector<std::string> types;  // frame types in order
  std::string text;
  json start;
  json done;
  json error;
};

/// Reads frames until every chat in `ids` has ended (done or error);
/// returns them by id, plus the order of all frames as "id:type".
std::map<std::string, chat_seen> read_chats(ws_client& ws,
                                            const std::vector<std::string>& ids,
                                            std::vector<std::string>* order
                                            = nullptr) {
  std::map<std::string, chat_seen> out;
  size_t ended = 0;
  while (ended < ids.size()) {
    auto f = next_frame(ws);
    std::string id = f.value("id", "");
    INFO(f.dump());
    REQUIRE(std::find(ids.begin(), ids.end(), id) != ids.end());
    auto& c = out[id];
    std::string type = f["type"];
    c.types.push_back(type);
    if (order)
      order->push_back(id + ":" + type);
    if (type == "start")
      c.start = f;
    else if (type == "token")
      c.text += f["text"].get<std::string>();
    else if (type == "done" || type == "error") {
      (type == "done" ? c.done : c.error) = f;
      ++ended;
    }
  }
  return out;
}

void check_well_formed(chat_seen c) {
  INFO("frames: " << json(c.types).dump() << " error " << c.error.dump());
  REQUIRE(c.types.size() >= 2);
  CHECK(c.types.front() == "start");
  CHECK(c.types.back() == "done");
  for (size_t i = 1; i + 1 < c.types.size(); ++i)
    CHECK(c.types[i] == "token");
  CHECK(c.start["session_id"].is_string());
  CHECK(c.start["message_id"].is_string());
  CHECK(c.done["usage"]["completion_tokens"].is_number_integer());
  CHECK(c.done["usage"]["prompt_tokens"].is_number_integer());
  CHECK(c.done["usage"]["total_tokens"]
        == c.done["usage"]["prompt_tokens"].get<int>()
             + c.done["usage"]["completion_tokens"].get<int>());
}

} // namespace

TEST_CASE("websocket: an auth frame is answered ready, other frames before "
          "it are unauthenticated",
          "[integration]") {
  service svc;
  auto ws = svc.connect("/v1/ws");
  ws->send(R"({"type":"chat","id":"early","message":"Hi"})");
  check_error_frame(next_frame(*ws), "unauthenticated");
  CHECK(ws->is_open());

  authenticate(*ws, svc.key);
  ws->send(
    R"({"type":"chat","id":"c1","message":"Hello","params":{"max_tokens":6,"temperature":0}})");
  auto chats = read_chats(*ws, {"c1"});
  check_well_formed(chats["c1"]);
  auto reason = chats["c1"].done["finish_reason"].get<std::string>();
  CHECK((reason == "stop" || reason == "length"));
  // The same prompt over HTTP gives the same greedy text.
  CHECK(chats["c1"].text
        == svc.http_reply("Hello", {{"max_tokens", 6}, {"temperature", 0}}));
  // And the session stores it.
  auto session = svc.get("/api/sessions/"
                         + chats["c1"].start["session_id"].get<std::string>());
  REQUIRE(session["messages"].size() == 2);
  CHECK(session["messages"][0]["content"] == "Hello");
  CHECK(session["messages"][1]["content"] == chats["c1"].text);
  CHECK(session["messages"][1]["id"] == chats["c1"].start["message_id"]);

  SECTION("a second auth frame is an error, the socket stays") {
    ws->send(json{{"type", "auth"}, {"api_key", svc.key}}.dump());
    CHECK(next_frame(*ws)["type"] == "error");
    expect_pong(*ws);
  }
  SECTION("a chat continues a session given by id") {
    std::string sid = chats["c1"].start["session_id"];
    ws->send(json{{"type", "chat"},
                  {"id", "c2"},
                  {"session_id", sid},
                  {"message", "More"},
                  {"params", {{"max_tokens", 4}, {"temperature", 0}}}}
               .dump());
    auto more = read_chats(*ws, {"c2"});
    check_well_formed(more["c2"]);
    CHECK(more["c2"].start["session_id"] == sid);
    CHECK(more["c2"].done["usage"]["prompt_tokens"].get<int>()
          > chats["c1"].done["usage"]["prompt_tokens"].get<int>());
    CHECK(svc.get("/api/sessions/" + sid)["messages"].size() == 4);
  }
}

TEST_CASE("websocket: a bad key gets an error frame and close code 4401",
          "[integration]") {
  service svc;
  SECTION("auth frame") {
    auto ws = svc.connect("/v1/ws");
    ws->send(R"({"type":"auth","api_key":"sk-not-a-key"})");
    auto f = next_frame(*ws);
    check_error_frame(f, "invalid_api_key");
    CHECK_FALSE(ws->receive(10s));
    CHECK(ws->close_code() == close_unauthenticated);
  }
  SECTION("auth frame without a key") {
    auto ws = svc.connect("/ws");
    ws->send(R"({"type":"auth"})");
    CHECK(next_frame(*ws)["type"] == "error");
    CHECK_FALSE(ws->receive(10s));
    CHECK(ws->close_code() == close_unauthenticated);
  }
  SECTION("header") {
    auto ws = std::make_unique<ws_client>(
      svc.chatd.port(), "/ws",
      chat::testing::header_pairs{{"Authorization", "Bearer sk-not-a-key"}});
    auto f = next_frame(*ws);
    check_error_frame(f, "invalid_api_key");
    CHECK_FALSE(ws->receive(10s));
    CHECK(ws->close_code() == close_unauthenticated);
  }
}

TEST_CASE("websocket: header auth on /ws chats at once", "[integration]") {
  service svc;
  auto ws = svc.connect("/ws", true);
  // No auth frame: the first chat frame goes right away.
  ws->send(
    R"({"type":"chat","id":"h","message":"Hello","params":{"max_tokens":5,"temperature":0}})");
  auto f = next_frame(*ws);
  // A server may announce readiness for header auth too.
  if (f["type"] == "ready")
    f = next_frame(*ws);
  INFO(f.dump());
  REQUIRE(f["type"] == "start");
  CHECK(f["id"] == "h");
  auto rest = read_chats(*ws, {"h"});
  CHECK(rest["h"].types.back() == "done");
  expect_pong(*ws);
}

TEST_CASE("websocket: two chats at once on one socket, told apart by id",
          "[integration]") {
  service svc;
  constexpr int tokens = 40;
  auto seed = svc.seed_for_full_length("Hello", tokens);
  json params = {{"max_tokens", tokens}, {"temperature", 1.0}, {"seed", seed}};
  auto ws = svc.connect();
  authenticate(*ws, svc.key);
  // The tiny model streams a token in about a millisecond, and "b" first
  // has its session created: "a" may finish before "b" streams. Every
  // round checks the texts; one of up to 5 must show both streaming at
  // once.
  bool overlapped = false;
  for (int round = 0; round < 5 && !overlapped; ++round) {
    ws->send(json{{"type", "chat"}, {"id", "a"}, {"message", "Hello"},
                  {"params", params}}
               .dump());
    ws->send(json{{"type", "chat"}, {"id", "b"}, {"message", "Hi"},
                  {"params", {{"max_tokens", tokens}, {"temperature", 0}}}}
               .dump());
    std::vector<std::string> order;
    auto chats = read_chats(*ws, {"a", "b"}, &order);
    INFO("round " << round << ", order: " << json(order).dump());
    check_well_formed(chats["a"]);
    check_well_formed(chats["b"]);
    CHECK(chats["a"].start["session_id"] != chats["b"].start["session_id"]);
    // Each text is what that prompt gives alone: nothing crossed over.
    CHECK(chats["a"].text == svc.http_reply("Hello", params));
    CHECK(chats["b"].text
          == svc.http_reply("Hi",
                            {{"max_tokens", tokens}, {"temperature", 0}}));
    CHECK(chats["a"].done["finish_reason"] == "length");
    CHECK(chats["a"].done["usage"]["completion_tokens"] == tokens);
    // They ran at once: both had streamed before the first one ended.
    auto first_done = std::find_if(order.begin(), order.end(), [](auto& s) {
      return s.find(":done") != std::string::npos;
    });
    overlapped =
      std::find(order.begin(), first_done, "a:token") != first_done
      && std::find(order.begin(), first_done, "b:token") != first_done;
  }
  CHECK(overlapped);
  expect_pong(*ws);
}

namespace {

/// How a long chat (alone on the engine) ended after the client cut it
/// short once its first token arrived.
struct cut_short {
  int steps_at_cut = 0;  // engine steps run when the client acted
  json stored;           // the session as stored afterwards
  json done;             // the frame answering a cancel, if any
  std::string failure;   // why no such frame came
  std::unique_ptr<ws_client> ws;
};

/// Starts a `tokens`-long chat on a fresh socket, waits for its first
/// token, then `cut`s it (a cancel frame or dropping the socket).
cut_short run_and_cut(service& svc, std::uint64_t seed, int tokens,
                      bool by_cancel) {
  cut_short out;
  out.ws = svc.connect();
  auto& ws = *out.ws;
  authenticate(ws, svc.key);
  auto steps_before = svc.step_count();
  ws.send(json{{"type", "chat"},
               {"id", "long"},
               {"message", "Hello"},
               {"params",
                {{"max_tokens", tokens}, {"temperature", 1.0}, {"seed", seed}}}}
            .dump());
  auto start = next_frame(ws);
  REQUIRE(start["type"] == "start");
  // Cut as soon as the chat started: on an idle machine the tiny model
  // decodes a whole reply faster than its first token frame reaches the
  // client. The sequence runs alone: one logged step is one token of it.
  out.steps_at_cut = svc.step_count() - steps_before;
  if (by_cancel) {
    ws.send(R"({"type":"cancel","id":"long"})");
    try {
      for (;;) {
        auto f = next_frame(ws, 10s);
        if (f["type"] == "token" && f["id"] == "long")
          continue;
        out.done = f;
        break;
      }
    } catch (const timeout_error& e) {
      out.failure = std::string("no frame after the cancel: ") + e.what();
    }
  } else {
    ws.drop();
  }
  std::string sid = start["session_id"];
  REQUIRE(eventually(
    [&] {
      out.stored = svc.get("/api/sessions/" + sid);
      return out.stored["messages"].size() == 2;
    },
    10s));
  return out;
}

/// Repeats `run_and_cut` until one try shows the cut landing within
/// `max_steps_to_cancel` steps. A try says nothing about that when the
/// engine outran the client (the reply was nearly done when its first token
/// arrived), and a loaded machine may stall chatd for more steps than that
/// once; a cut that never lands early fails every try.
cut_short cut_a_chat(service& svc, bool by_cancel) {
  constexpr int tokens = 100;
  auto seed = svc.seed_for_full_length("Hello", tokens);
  std::string late;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto c = run_and_cut(svc, seed, tokens, by_cancel);
    if (c.steps_at_cut + max_steps_to_cancel >= tokens)
      continue;
    auto reply = c.stored["messages"][1];
    INFO(c.stored.dump() << "\nsteps run when cut: " << c.steps_at_cut);
    CHECK(reply["finish_reason"] == "cancelled");
    CHECK(reply["tokens"].get<int>() < tokens);
    if (reply["tokens"].get<int>() <= c.steps_at_cut + max_steps_to_cancel)
      return c;
    late += " " + std::to_string(reply["tokens"].get<int>()) + " tokens after "
            + std::to_string(c.steps_at_cut) + " steps;";
  }
  INFO("tries that landed late:" << late);
  FAIL("no try showed the cut within " << max_steps_to_cancel << " steps");
  return {};
}

} // namespace

TEST_CASE("websocket: cancel ends a chat with finish_reason cancelled",
          "[integration]") {
  service svc;
  auto c = cut_a_chat(svc, true);
  {
    INFO(c.failure);
    CHECK(c.failure.empty());
  }
  // A timed-out read leaves the socket unusable; the rest needs the done.
  if (!c.failure.empty())
    return;
  INFO(c.done.dump());
  CHECK(c.done["type"] == "done");
  CHECK(c.done["id"] == "long");
  CHECK(c.done["finish_reason"] == "cancelled");
  if (c.done["usage"].is_object())
    CHECK(c.done["usage"]["completion_tokens"]
          == c.stored["messages"][1]["tokens"]);
  // The socket goes on; a cancel of nothing is an error naming the id.
  expect_pong(*c.ws);
  c.ws->send(R"({"type":"cancel","id":"nothing"})");
  check_error_frame(next_frame(*c.ws), "chat_not_found", "nothing");
}

TEST_CASE("websocket: closing the socket cancels its running chats",
          "[integration]") {
  service svc;
  cut_a_chat(svc, false);
}

TEST_CASE("websocket: a malformed frame gets an error frame and the socket "
          "stays usable",
          "[integration]") {
  service svc;
  auto ws = svc.connect();
  authenticate(*ws, svc.key);
  struct bad {
    std::string frame;
    std::string code;
  };
  for (const auto& b : std::vector<bad>{
         {"this is not json", "invalid_json"},
         {"{\"type\":", "invalid_json"},
         {"[1,2]", "invalid_frame"},
         {"{}", "invalid_frame"},
         {R"({"id":"x","message":"Hi"})", "invalid_frame"},
         {R"({"type":7})", "invalid_frame"},
         {R"({"type":"dance"})", "unknown_type"},
         {R"({"type":"chat","message":"Hi"})", "invalid_frame"},
       }) {
    INFO("sent: " << b.frame);
    ws->send(b.frame);
    check_error_frame(next_frame(*ws), b.code);
    REQUIRE(ws->is_open());
    expect_pong(*ws);
  }

  SECTION("bad chat fields name the parameter and keep the id") {
    ws->send(R"({"type":"chat","id":"t","message":"Hi","params":{"temperature":5}})");
    auto f = next_frame(*ws);
    check_error_frame(f, "invalid_value", "t");
    CHECK(f["error"]["param"] == "params.temperature");
    ws->send(R"({"type":"chat","id":"m","message":""})");
    check_error_frame(next_frame(*ws), "invalid_value", "m");
    ws->send(R"({"type":"chat","id":"p","message":"Hi","params":[]})");
    check_error_frame(next_frame(*ws), "invalid_value", "p");
    ws->send(
      R"({"type":"chat","id":"s","message":"Hi","session_id":"sess-missing"})");
    check_error_frame(next_frame(*ws), "session_not_found", "s");
    expect_pong(*ws);
    // And a good chat still works on it.
    ws->send(
      R"({"type":"chat","id":"ok","message":"Hi","params":{"max_tokens":3}})");
    check_well_formed(read_chats(*ws, {"ok"})["ok"]);
  }
}
