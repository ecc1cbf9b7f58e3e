#include "actors/ws_reply_writer.hpp"
#include "fake_responder.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>

using namespace chat;
using chat::test::fake_ws_connection;
using nlohmann::json;

TEST_CASE("ws writer sends token frames tagged with the chat id", "[unit]") {
  auto conn = std::make_shared<fake_ws_connection>();
  auto w = make_ws_writer(conn, "c1");
  w->text("Hel");
  w->text("");
  w->text("lo");
  REQUIRE(conn->frames.size() == 2);
  CHECK(json::parse(conn->frames[0])
        == json{{"type", "token"}, {"id", "c1"}, {"text", "Hel"}});
  CHECK(json::parse(conn->frames[1])
        == json{{"type", "token"}, {"id", "c1"}, {"text", "lo"}});
  CHECK(conn->closes.empty());
}

TEST_CASE("ws writer ends with a done frame carrying usage", "[unit]") {
  auto conn = std::make_shared<fake_ws_connection>();
  auto w = make_ws_writer(conn, "c1");
  w->text("x");
  w->end("length", {6, 4});
  REQUIRE(conn->frames.size() == 2);
  auto done = json::parse(conn->frames[1]);
  CHECK(done == json{{"type", "done"},
                     {"id", "c1"},
                     {"finish_reason", "length"},
                     {"usage",
                      {{"prompt_tokens", 6},
                       {"completion_tokens", 4},
                       {"total_tokens", 10}}}});
  CHECK(conn->closes.empty());
}

TEST_CASE("ws writer reports a failure as an error frame and keeps the socket",
          "[unit]") {
  auto conn = std::make_shared<fake_ws_connection>();
  auto w = make_ws_writer(conn, "c2");
  w->text("part");
  w->fail(api::bad_param("params.top_p", "'top_p' must be in (0, 1]"));
  REQUIRE(conn->frames.size() == 2);
  auto frame = json::parse(conn->frames[1]);
  CHECK(frame["type"] == "error");
  CHECK(frame["id"] == "c2");
  CHECK(frame["error"]["code"] == "invalid_value");
  CHECK(frame["error"]["param"] == "params.top_p");
  CHECK(frame["error"]["type"] == "invalid_request_error");
  CHECK(frame["error"]["message"] == "'top_p' must be in (0, 1]");
  CHECK(conn->closes.empty());
}

TEST_CASE("ws_error_frame omits the id when there is no chat id", "[unit]") {
  auto frame = json::parse(
    ws_error_frame("", api::api_error(401, "unauthenticated", "log in first")));
  CHECK(frame["type"] == "error");
  CHECK_FALSE(frame.contains("id"));
  CHECK(frame["error"]["code"] == "unauthenticated");
  CHECK(frame["error"]["type"] == "authentication_error");
  CHECK(frame["error"]["param"].is_null());
  auto tagged = json::parse(
    ws_error_frame("c9", api::api_error(400, "bad_frame", "bad frame")));
  CHECK(tagged["id"] == "c9");
}
