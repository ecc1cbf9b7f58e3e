#include "actors/http_reply_writers.hpp"
#include "fake_responder.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace chat;
using chat::test::fake_responder;
using chat::test::find_header;
using nlohmann::json;

namespace {

reply_meta chat_meta(std::string session_id = "") {
  reply_meta meta;
  meta.response_id = "chatcmpl-1";
  meta.model_id = "tiny";
  meta.created = 123;
  meta.session_id = std::move(session_id);
  return meta;
}

reply_meta session_meta() {
  reply_meta meta;
  meta.response_id = "unused";
  meta.model_id = "tiny";
  meta.created = 456;
  meta.session_id = "sess_1";
  meta.message_id = "msg_9";
  return meta;
}

/// Checks one SSE `data:` event and returns its JSON.
json data_event(const std::string& event) {
  INFO(event);
  REQUIRE(event.rfind("data: ", 0) == 0);
  REQUIRE(event.size() > 8);
  REQUIRE(event.substr(event.size() - 2) == "\n\n");
  auto payload = event.substr(6, event.size() - 8);
  REQUIRE(payload.find('\n') == std::string::npos);
  return json::parse(payload);
}

/// A named SSE event: "event: <name>\ndata: <json>\n\n".
std::pair<std::string, json> named_event(const std::string& event) {
  INFO(event);
  REQUIRE(event.rfind("event: ", 0) == 0);
  auto line_end = event.find('\n');
  REQUIRE(line_end != std::string::npos);
  auto name = event.substr(7, line_end - 7);
  return {name, data_event(event.substr(line_end + 1))};
}

api::api_error unavailable() {
  api::api_error e(503, "no_worker", "no worker is ready");
  e.retry_after = 5;
  return e;
}

/// A streaming chat writer without include_usage.
reply_writer_ptr chat_stream(const std::shared_ptr<fake_responder>& done) {
  return make_openai_writer(done, chat_meta(), openai_kind::chat, true, false);
}

std::vector<std::string> stream_calls(std::size_t writes) {
  std::vector<std::string> calls{"start_stream"};
  calls.insert(calls.end(), writes, "write");
  calls.push_back("finish");
  return calls;
}

} // namespace

TEST_CASE("openai chat stream writes exact SSE chunks ending with the "
          "DONE marker",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_openai_writer(done, chat_meta(), openai_kind::chat, true,
                              false);
  w->text("Hel");
  w->text("lo");
  w->end("stop", {3, 2});
  // nlohmann::json sorts keys, so the exact bytes are stable.
  auto line = [](const std::string& choice) {
    return R"(data: {"choices":[)" + choice
           + R"(],"created":123,"id":"chatcmpl-1","model":"tiny",)"
             R"("object":"chat.completion.chunk"})"
           + "\n\n";
  };
  REQUIRE(done->writes.size() == 5);
  CHECK(done->writes[0]
        == line(R"({"delta":{"content":"","role":"assistant"},)"
                R"("finish_reason":null,"index":0})"));
  CHECK(done->writes[1]
        == line(R"({"delta":{"content":"Hel"},"finish_reason":null,)"
                R"("index":0})"));
  CHECK(done->writes[2]
        == line(R"({"delta":{"content":"lo"},"finish_reason":null,)"
                R"("index":0})"));
  CHECK(done->writes[3]
        == line(R"({"delta":{},"finish_reason":"stop","index":0})"));
  CHECK(done->writes[4] == "data: [DONE]\n\n");
  CHECK(done->calls == stream_calls(5));
  CHECK(done->content_type == "text/event-stream");
  CHECK(done->stream_headers.empty());
  CHECK_FALSE(done->sent);
}

TEST_CASE("openai chat stream sends the role chunk first even for an empty "
          "reply",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = chat_stream(done);
  w->end("length", {4, 0});
  REQUIRE(done->writes.size() == 3);
  auto role = data_event(done->writes[0]);
  CHECK(role["choices"][0]["delta"]["role"] == "assistant");
  auto last = data_event(done->writes[1]);
  CHECK(last["choices"][0]["finish_reason"] == "length");
  CHECK(done->writes[2] == "data: [DONE]\n\n");
  CHECK(done->calls.back() == "finish");
}

TEST_CASE("openai chat stream skips empty text pieces", "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = chat_stream(done);
  w->text("");
  CHECK(done->calls.empty());
  w->text("a");
  w->text("");
  w->end("stop", {1, 1});
  CHECK(done->writes.size() == 4); // role, "a", finish, [DONE]
}

TEST_CASE("openai chat stream only the first chunk carries the role",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = chat_stream(done);
  for (const char* piece : {"a", "b", "c"})
    w->text(piece);
  w->end("stop", {1, 3});
  int roles = 0;
  for (std::size_t i = 0; i + 1 < done->writes.size(); ++i) {
    auto c = data_event(done->writes[i]);
    if (c["choices"][0]["delta"].contains("role"))
      ++roles;
  }
  CHECK(roles == 1);
  CHECK(data_event(done->writes[0])["choices"][0]["delta"].contains("role"));
}

TEST_CASE("openai stream adds a usage chunk only with include_usage",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_openai_writer(done, chat_meta(), openai_kind::chat, true, true);
  w->text("Hi");
  w->end("stop", {7, 3});
  REQUIRE(done->writes.size() == 5);
  for (std::size_t i = 0; i < 3; ++i) {
    auto c = data_event(done->writes[i]);
    CHECK(c.contains("usage"));
    CHECK(c["usage"].is_null());
  }
  auto finish = data_event(done->writes[2]);
  CHECK(finish["choices"][0]["finish_reason"] == "stop");
  auto usage = data_event(done->writes[3]);
  CHECK(usage["choices"] == json::array());
  CHECK(usage["object"] == "chat.completion.chunk");
  CHECK(usage["usage"] == json{{"prompt_tokens", 7}, {"completion_tokens", 3},
                               {"total_tokens", 10}});
  CHECK(done->writes[4] == "data: [DONE]\n\n");

  auto plain = std::make_shared<fake_responder>();
  auto w2
    = make_openai_writer(plain, chat_meta(), openai_kind::chat, true, false);
  w2->text("Hi");
  w2->end("stop", {7, 3});
  CHECK(plain->writes.size() == 4);
  CHECK(plain->body().find("usage") == std::string::npos);
}

TEST_CASE("openai stream sends X-Session-ID when the reply is stored",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_openai_writer(done, chat_meta("sess_7"), openai_kind::chat,
                              true, false);
  w->text("x");
  w->end("stop", {1, 1});
  CHECK(find_header(done->stream_headers, "X-Session-ID") == "sess_7");
}

TEST_CASE("openai text stream writes text_completion chunks without a role",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto meta = chat_meta();
  meta.response_id = "cmpl-1";
  auto w = make_openai_writer(done, meta, openai_kind::text, true, false);
  w->text("Once");
  w->end("length", {2, 1});
  REQUIRE(done->writes.size() == 3);
  auto first = data_event(done->writes[0]);
  CHECK(first["object"] == "text_completion");
  CHECK(first["id"] == "cmpl-1");
  CHECK(first["choices"][0]["text"] == "Once");
  CHECK(first["choices"][0]["finish_reason"].is_null());
  CHECK_FALSE(first["choices"][0].contains("delta"));
  auto last = data_event(done->writes[1]);
  CHECK(last["choices"][0]["text"] == "");
  CHECK(last["choices"][0]["finish_reason"] == "length");
  CHECK(done->writes[2] == "data: [DONE]\n\n");
  CHECK(done->calls == stream_calls(3));
}

TEST_CASE("openai stream failing before output sends a plain error response",
          "[unit]") {
  for (auto kind : {openai_kind::chat, openai_kind::text}) {
    auto done = std::make_shared<fake_responder>();
    auto w = make_openai_writer(done, chat_meta(), kind, true, true);
    w->fail(unavailable());
    CHECK(done->calls == std::vector<std::string>{"send"});
    REQUIRE(done->sent);
    CHECK(done->sent->status == 503);
    CHECK(done->sent->content_type == "application/json");
    CHECK(find_header(done->sent->headers, "Retry-After") == "5");
    auto err = json::parse(done->sent->body)["error"];
    CHECK(err["code"] == "no_worker");
    CHECK(err["type"] == "service_unavailable_error");
    CHECK(err["message"] == "no worker is ready");
  }
}

TEST_CASE("openai stream failing after output sends an error event then the "
          "DONE marker",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = chat_stream(done);
  w->text("partial");
  w->fail(api::api_error(500, "worker_failed", "the worker failed"));
  CHECK_FALSE(done->sent);
  REQUIRE(done->writes.size() == 4);
  auto err = data_event(done->writes[2]);
  CHECK(err["error"]["code"] == "worker_failed");
  CHECK(err["error"]["type"] == "server_error");
  CHECK(done->writes[3] == "data: [DONE]\n\n");
  CHECK(done->calls == stream_calls(4));
}

TEST_CASE("openai chat non-stream sends one chat.completion with usage",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w
    = make_openai_writer(done, chat_meta(), openai_kind::chat, false, false);
  w->text("Hello");
  w->text(", world");
  w->end("stop", {5, 2});
  CHECK(done->calls == std::vector<std::string>{"send"});
  REQUIRE(done->sent);
  CHECK(done->sent->status == 200);
  CHECK(done->sent->content_type == "application/json");
  CHECK(done->sent->headers.empty());
  auto body = json::parse(done->sent->body);
  CHECK(body["id"] == "chatcmpl-1");
  CHECK(body["object"] == "chat.completion");
  CHECK(body["created"] == 123);
  CHECK(body["model"] == "tiny");
  REQUIRE(body["choices"].size() == 1);
  const auto& choice = body["choices"][0];
  CHECK(choice["index"] == 0);
  CHECK(choice["finish_reason"] == "stop");
  CHECK(choice["message"]
        == json{{"role", "assistant"}, {"content", "Hello, world"}});
  CHECK(body["usage"] == json{{"prompt_tokens", 5}, {"completion_tokens", 2},
                              {"total_tokens", 7}});
}

TEST_CASE("openai non-stream sends X-Session-ID when the reply is stored",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_openai_writer(done, chat_meta("sess_3"), openai_kind::chat,
                              false, false);
  w->end("stop", {1, 0});
  REQUIRE(done->sent);
  CHECK(find_header(done->sent->headers, "X-Session-ID") == "sess_3");
  auto body = json::parse(done->sent->body);
  CHECK(body["choices"][0]["message"]["content"] == "");
}

TEST_CASE("openai text non-stream sends one text_completion", "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w
    = make_openai_writer(done, chat_meta(), openai_kind::text, false, false);
  w->text("upon a time");
  w->end("length", {3, 4});
  REQUIRE(done->sent);
  auto body = json::parse(done->sent->body);
  CHECK(body["object"] == "text_completion");
  const auto& choice = body["choices"][0];
  CHECK(choice["text"] == "upon a time");
  CHECK(choice["logprobs"].is_null());
  CHECK(choice["finish_reason"] == "length");
  CHECK_FALSE(choice.contains("message"));
  CHECK(body["usage"]["total_tokens"] == 7);
}

TEST_CASE("openai non-stream failure sends the error response", "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w
    = make_openai_writer(done, chat_meta(), openai_kind::chat, false, false);
  w->text("ignored");
  api::api_error busy(429, "queue_full", "too many requests");
  busy.retry_after = 2;
  w->fail(busy);
  CHECK(done->calls == std::vector<std::string>{"send"});
  REQUIRE(done->sent);
  CHECK(done->sent->status == 429);
  CHECK(find_header(done->sent->headers, "Retry-After") == "2");
  CHECK(json::parse(done->sent->body)["error"]["type"] == "rate_limit_error");
}

TEST_CASE("session stream writes token and done events", "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_session_writer(done, session_meta(), true);
  w->text("Hi");
  w->text("");
  w->text(" there");
  w->end("stop", {4, 2});
  REQUIRE(done->writes.size() == 3);
  CHECK(done->writes[0] == "event: token\ndata: {\"text\":\"Hi\"}\n\n");
  CHECK(done->writes[1] == "event: token\ndata: {\"text\":\" there\"}\n\n");
  auto [name, data] = named_event(done->writes[2]);
  CHECK(name == "done");
  CHECK(data["message_id"] == "msg_9");
  CHECK(data["finish_reason"] == "stop");
  CHECK(data["usage"] == json{{"prompt_tokens", 4}, {"completion_tokens", 2},
                              {"total_tokens", 6}});
  CHECK(done->calls == stream_calls(3));
  CHECK(done->content_type == "text/event-stream");
  CHECK(find_header(done->stream_headers, "X-Session-ID") == "sess_1");
}

TEST_CASE("session stream with no text still ends with a done event",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_session_writer(done, session_meta(), true);
  w->end("cancelled", {4, 0});
  REQUIRE(done->writes.size() == 1);
  auto [name, data] = named_event(done->writes[0]);
  CHECK(name == "done");
  CHECK(data["finish_reason"] == "cancelled");
  CHECK(done->calls == stream_calls(1));
}

TEST_CASE("session stream failing before output sends a plain error response",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_session_writer(done, session_meta(), true);
  w->fail(api::api_error(404, "not_found", "no such session"));
  CHECK(done->calls == std::vector<std::string>{"send"});
  REQUIRE(done->sent);
  CHECK(done->sent->status == 404);
  CHECK(json::parse(done->sent->body)["error"]["code"] == "not_found");
}

TEST_CASE("session stream failing after output sends an error event",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_session_writer(done, session_meta(), true);
  w->text("Hi");
  w->fail(api::api_error(500, "worker_failed", "the worker failed"));
  REQUIRE(done->writes.size() == 2);
  auto [name, data] = named_event(done->writes[1]);
  CHECK(name == "error");
  CHECK(data["error"]["code"] == "worker_failed");
  CHECK(data["error"]["message"] == "the worker failed");
  CHECK(data["error"]["type"] == "server_error");
  CHECK(data["error"]["param"].is_null());
  CHECK(done->calls == stream_calls(2));
  CHECK_FALSE(done->sent);
}

TEST_CASE("session non-stream sends the stored reply as JSON", "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_session_writer(done, session_meta(), false);
  w->text("Good ");
  w->text("day");
  w->end("stop", {10, 2});
  CHECK(done->calls == std::vector<std::string>{"send"});
  REQUIRE(done->sent);
  CHECK(done->sent->status == 200);
  CHECK(find_header(done->sent->headers, "X-Session-ID") == "sess_1");
  auto body = json::parse(done->sent->body);
  CHECK(body["id"] == "msg_9");
  CHECK(body["session_id"] == "sess_1");
  CHECK(body["role"] == "assistant");
  CHECK(body["content"] == "Good day");
  CHECK(body["created_at"] == 456);
  CHECK(body["tokens"] == 2);
  CHECK(body["finish_reason"] == "stop");
  CHECK(body["usage"]["total_tokens"] == 12);
}

TEST_CASE("session non-stream failure sends the error response", "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_session_writer(done, session_meta(), false);
  w->fail(unavailable());
  REQUIRE(done->sent);
  CHECK(done->sent->status == 503);
  CHECK(find_header(done->sent->headers, "Retry-After") == "5");
}

TEST_CASE("plain text writer streams raw text with X-Session-ID", "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_plain_text_writer(done, session_meta());
  w->text("Hello");
  w->text("");
  w->text(" world");
  w->end("stop", {1, 2});
  CHECK(done->content_type == "text/plain; charset=utf-8");
  CHECK(find_header(done->stream_headers, "X-Session-ID") == "sess_1");
  CHECK(done->writes == std::vector<std::string>{"Hello", " world"});
  CHECK(done->calls == stream_calls(2));
}

TEST_CASE("plain text writer with an empty reply still starts and ends the "
          "stream",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_plain_text_writer(done, session_meta());
  w->end("stop", {1, 0});
  CHECK(done->calls.front() == "start_stream");
  CHECK(done->calls.back() == "finish");
  CHECK(done->body().empty());
  CHECK_FALSE(done->sent);
}

TEST_CASE("plain text writer failing before output sends an error response",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_plain_text_writer(done, session_meta());
  w->fail(unavailable());
  CHECK(done->calls == std::vector<std::string>{"send"});
  REQUIRE(done->sent);
  CHECK(done->sent->status == 503);
}

TEST_CASE("plain text writer failing after output appends the error text",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_plain_text_writer(done, session_meta());
  w->text("Hel");
  w->fail(api::api_error(500, "worker_failed", "the worker failed"));
  CHECK(done->body() == "Hel\n[error: the worker failed]\n");
  CHECK(done->calls.back() == "finish");
  CHECK_FALSE(done->sent);
}

TEST_CASE("streaming writers never write an empty chunk",
          "[unit]") {
  auto done = std::make_shared<fake_responder>();
  auto w = make_plain_text_writer(done, session_meta());
  w->end("stop", {1, 0});
  CHECK(done->calls.front() == "start_stream");
  for (const auto& piece : done->writes)
    CHECK_FALSE(piece.empty());
}
