#include "actors/api/api_error.hpp"
#include "actors/api/generation_request.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

using namespace chat::api;
using chat::tokenizer::chat_role;
using nlohmann::json;

namespace {

json chat_body(json extra = json::object()) {
  json body = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  body.update(extra);
  return body;
}

json completion_body(json extra = json::object()) {
  json body = {{"prompt", "Once upon a time"}};
  body.update(extra);
  return body;
}

/// Runs `parse` and returns the api_error it throws (fails the test if none).
api_error error_of(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const api_error& e) {
    return e;
  }
  FAIL("no api_error was thrown");
  return api_error(0, "", "");
}

/// Checks that parse throws 400 naming `param`.
void check_bad(const std::function<void()>& parse, const std::string& param) {
  auto e = error_of(parse);
  CHECK(e.status == 400);
  REQUIRE(e.param);
  CHECK(*e.param == param);
  CHECK(std::string(e.what()).size() > 0);
}

void check_bad_chat(json extra, const std::string& param) {
  INFO(extra.dump());
  check_bad([&] { parse_chat_completion(chat_body(extra)); }, param);
}

void check_bad_completion(json extra, const std::string& param) {
  INFO(extra.dump());
  check_bad([&] { parse_completion(completion_body(extra)); }, param);
}

} // namespace

TEST_CASE("parse_body rejects invalid JSON with 400 invalid_json", "[unit]") {
  auto e = error_of([] { parse_body("{\"messages\": ["); });
  CHECK(e.status == 400);
  CHECK(e.code == "invalid_json");
  CHECK_FALSE(e.param);
  CHECK(parse_body("{\"a\":1}").at("a") == 1);
}

// Found by fuzz/http_request: nlohmann throws out_of_range, not parse_error,
// for a number too large for a double; it escaped as a 500.
TEST_CASE("parse_body rejects an out-of-range number with 400 invalid_json",
          "[unit]") {
  auto e = error_of([] { parse_body(R"({"max_tokens":1e999})"); });
  CHECK(e.status == 400);
  CHECK(e.code == "invalid_json");
}

TEST_CASE("the parsers reject a body that is not a JSON object", "[unit]") {
  for (const auto& body : {json::array(), json(3), json("text"), json()}) {
    INFO(body.dump());
    CHECK(error_of([&] { parse_chat_completion(body); }).status == 400);
    CHECK(error_of([&] { parse_completion(body); }).status == 400);
    CHECK(error_of([&] { parse_session_message(body); }).status == 400);
  }
}

TEST_CASE("parse_chat_completion reads a minimal request with defaults",
          "[unit]") {
  auto r = parse_chat_completion(chat_body());
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].role == chat_role::user);
  CHECK(r.messages[0].content == "hi");
  CHECK_FALSE(r.model);
  CHECK_FALSE(r.session_id);
  const auto& o = r.options;
  CHECK_FALSE(o.stream);
  CHECK_FALSE(o.include_usage);
  CHECK_FALSE(o.max_tokens);
  CHECK(o.temperature == 1.0f);
  CHECK(o.top_p == 1.0f);
  CHECK(o.top_k == 0);
  CHECK_FALSE(o.seed);
  CHECK(o.stop.empty());
}

TEST_CASE("parse_chat_completion reads every field", "[unit]") {
  auto r = parse_chat_completion(json::parse(R"({
    "model": "tiny", "session_id": "sess_1", "user": "u1",
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Hi"},
                 {"role": "assistant", "content": "Hello"},
                 {"role": "user", "content": "Bye"}],
    "stream": true, "stream_options": {"include_usage": true}, "n": 1,
    "max_tokens": 32, "temperature": 0, "top_p": 0.5, "top_k": 40,
    "seed": 1337, "stop": ["\n\n", "END"]})"));
  CHECK(r.model == "tiny");
  CHECK(r.session_id == "sess_1");
  REQUIRE(r.messages.size() == 4);
  CHECK(r.messages[0].role == chat_role::system);
  CHECK(r.messages[2].role == chat_role::assistant);
  CHECK(r.messages[3].content == "Bye");
  CHECK(r.options.stream);
  CHECK(r.options.include_usage);
  CHECK(r.options.max_tokens == 32);
  CHECK(r.options.temperature == 0.0f);
  CHECK(r.options.top_p == 0.5f);
  CHECK(r.options.top_k == 40);
  CHECK(r.options.seed == 1337u);
  CHECK(r.options.stop == std::vector<std::string>{"\n\n", "END"});
}

TEST_CASE("parse_chat_completion treats null fields as absent", "[unit]") {
  auto r = parse_chat_completion(chat_body(
    {{"model", nullptr}, {"temperature", nullptr}, {"stop", nullptr},
     {"max_tokens", nullptr}, {"n", nullptr}, {"stream_options", nullptr}}));
  CHECK_FALSE(r.model);
  CHECK(r.options.temperature == 1.0f);
  CHECK(r.options.stop.empty());
  CHECK_FALSE(r.options.max_tokens);
}

TEST_CASE("parse_chat_completion joins text content parts", "[unit]") {
  auto r = parse_chat_completion(json::parse(R"({"messages": [
    {"role": "user", "content": [{"type": "text", "text": "Hello, "},
                                 {"type": "text", "text": "world"}]}]})"));
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].content == "Hello, world");
}

TEST_CASE("parse_chat_completion rejects non-text content parts naming the "
          "part",
          "[unit]") {
  check_bad_chat(
    json::parse(R"({"messages": [{"role": "user", "content": "ok"},
      {"role": "user", "content": [{"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {"url": "http://x"}}]}]})"),
    "messages[1].content[1]");
  check_bad_chat(json::parse(R"({"messages": [{"role": "user",
      "content": ["plain string part"]}]})"),
                 "messages[0].content[0]");
  check_bad_chat(json::parse(R"({"messages": [{"role": "user",
      "content": [{"type": "text", "text": 5}]}]})"),
                 "messages[0].content[0]");
  check_bad_chat(json::parse(R"({"messages": [{"role": "user",
      "content": [{"type": "text"}]}]})"),
                 "messages[0].content[0]");
  // A non-string "type" made json::value() throw type_error (a 500).
  check_bad_chat(json::parse(R"({"messages": [{"role": "user",
      "content": [{"type": 1, "text": "a"}]}]})"),
                 "messages[0].content[0]");
}

TEST_CASE("parse_chat_completion rejects bad messages naming the message",
          "[unit]") {
  check_bad_chat({{"messages", nullptr}}, "messages");
  check_bad_chat({{"messages", "hi"}}, "messages");
  check_bad_chat({{"messages", json::object()}}, "messages");
  check_bad_chat({{"messages", json::array()}}, "messages");
  check_bad_chat({{"messages", {"hi"}}}, "messages[0]");
  check_bad_chat({{"messages", {{{"content", "hi"}}}}}, "messages[0].role");
  check_bad_chat({{"messages", {{{"role", 1}, {"content", "hi"}}}}},
                 "messages[0].role");
  check_bad_chat(
    {{"messages",
      {{{"role", "user"}, {"content", "hi"}},
       {{"role", "tool"}, {"content", "x"}}}}},
    "messages[1].role");
  check_bad_chat({{"messages", {{{"role", "user"}}}}}, "messages[0].content");
  check_bad_chat({{"messages", {{{"role", "user"}, {"content", nullptr}}}}},
                 "messages[0].content");
  check_bad_chat({{"messages", {{{"role", "user"}, {"content", 42}}}}},
                 "messages[0].content");
  check_bad_chat(
    {{"messages", {{{"role", "user"}, {"content", {{"text", "a"}}}}}}},
    "messages[0].content");
}

TEST_CASE("parse_chat_completion allows empty messages with a session_id",
          "[unit]") {
  auto r = parse_chat_completion(
    {{"messages", json::array()}, {"session_id", "sess_1"}});
  CHECK(r.messages.empty());
  CHECK(r.session_id == "sess_1");
}

TEST_CASE("parse_chat_completion rejects wrong types of the simple fields",
          "[unit]") {
  check_bad_chat({{"model", 7}}, "model");
  check_bad_chat({{"session_id", 7}}, "session_id");
  check_bad_chat({{"user", true}}, "user");
  check_bad_chat({{"stream", "yes"}}, "stream");
  check_bad_chat({{"stream", 1}}, "stream");
  check_bad_chat({{"seed", "42"}}, "seed");
  check_bad_chat({{"seed", 4.5}}, "seed");
}

TEST_CASE("parse_chat_completion accepts only n = 1", "[unit]") {
  CHECK_NOTHROW(parse_chat_completion(chat_body({{"n", 1}})));
  check_bad_chat({{"n", 2}}, "n");
  check_bad_chat({{"n", 0}}, "n");
  check_bad_chat({{"n", "1"}}, "n");
  check_bad_chat({{"n", 1.5}}, "n");
}

TEST_CASE("parse_chat_completion reads stream_options.include_usage",
          "[unit]") {
  auto r = parse_chat_completion(
    chat_body({{"stream", true},
               {"stream_options", {{"include_usage", true}}}}));
  CHECK(r.options.stream);
  CHECK(r.options.include_usage);
  auto off = parse_chat_completion(
    chat_body({{"stream", true}, {"stream_options", json::object()}}));
  CHECK_FALSE(off.options.include_usage);
  check_bad_chat({{"stream_options", true}}, "stream_options");
  check_bad_chat({{"stream_options", {{"include_usage", "yes"}}}},
                 "stream_options.include_usage");
}

TEST_CASE("temperature must be a number from 0 to 2", "[unit]") {
  auto temperature = [](json value) {
    return parse_chat_completion(chat_body({{"temperature", value}}))
      .options.temperature;
  };
  CHECK(temperature(0) == 0.0f);
  CHECK(temperature(2) == 2.0f);
  CHECK(temperature(0.7) == Approx(0.7f));
  check_bad_chat({{"temperature", -0.01}}, "temperature");
  check_bad_chat({{"temperature", 2.01}}, "temperature");
  check_bad_chat({{"temperature", "hot"}}, "temperature");
  check_bad_chat({{"temperature", true}}, "temperature");
}

TEST_CASE("top_p must be above 0 and at most 1", "[unit]") {
  CHECK(parse_chat_completion(chat_body({{"top_p", 1}})).options.top_p == 1.0f);
  CHECK(parse_chat_completion(chat_body({{"top_p", 0.01}})).options.top_p
        == Approx(0.01f));
  check_bad_chat({{"top_p", 0}}, "top_p");
  check_bad_chat({{"top_p", -0.5}}, "top_p");
  check_bad_chat({{"top_p", 1.01}}, "top_p");
  check_bad_chat({{"top_p", "0.5"}}, "top_p");
}

TEST_CASE("top_k must be a non-negative integer", "[unit]") {
  CHECK(parse_chat_completion(chat_body({{"top_k", 0}})).options.top_k == 0);
  CHECK(parse_chat_completion(chat_body({{"top_k", 50}})).options.top_k == 50);
  check_bad_chat({{"top_k", -1}}, "top_k");
  check_bad_chat({{"top_k", 2.5}}, "top_k");
  check_bad_chat({{"top_k", 1 << 21}}, "top_k");
}

TEST_CASE("max_tokens must be a positive integer", "[unit]") {
  CHECK(parse_chat_completion(chat_body({{"max_tokens", 1}})).options.max_tokens
        == 1);
  check_bad_chat({{"max_tokens", 0}}, "max_tokens");
  check_bad_chat({{"max_tokens", -5}}, "max_tokens");
  check_bad_chat({{"max_tokens", 1.5}}, "max_tokens");
  check_bad_chat({{"max_tokens", "16"}}, "max_tokens");
  check_bad_chat({{"max_tokens", std::int64_t(1) << 40}}, "max_tokens");
  check_bad_chat({{"max_tokens", std::uint64_t(1) << 63}}, "max_tokens");
}

TEST_CASE("max_completion_tokens takes precedence over max_tokens", "[unit]") {
  auto r = parse_chat_completion(
    chat_body({{"max_tokens", 100}, {"max_completion_tokens", 10}}));
  CHECK(r.options.max_tokens == 10);
  auto only = parse_chat_completion(chat_body({{"max_completion_tokens", 7}}));
  CHECK(only.options.max_tokens == 7);
  check_bad_chat({{"max_completion_tokens", 0}, {"max_tokens", 10}},
                 "max_completion_tokens");
  // A null max_completion_tokens falls back to max_tokens.
  auto fallback = parse_chat_completion(
    chat_body({{"max_completion_tokens", nullptr}, {"max_tokens", 12}}));
  CHECK(fallback.options.max_tokens == 12);
}

TEST_CASE("stop accepts a string or up to 4 strings", "[unit]") {
  CHECK(parse_chat_completion(chat_body({{"stop", "END"}})).options.stop
        == std::vector<std::string>{"END"});
  CHECK(parse_chat_completion(chat_body({{"stop", {"a", "b", "c", "d"}}}))
          .options.stop.size()
        == 4);
  CHECK(parse_chat_completion(chat_body({{"stop", json::array()}}))
          .options.stop.empty());
  check_bad_chat({{"stop", {"a", "b", "c", "d", "e"}}}, "stop");
  check_bad_chat({{"stop", {"a", 3}}}, "stop[1]");
  check_bad_chat({{"stop", 3}}, "stop");
  check_bad_chat({{"stop", {{"s", "a"}}}}, "stop");
  check_bad_chat({{"stop", ""}}, "stop");
  check_bad_chat({{"stop", {"a", ""}}}, "stop");
}

TEST_CASE("ignore_eos is an optional boolean, off by default", "[unit]") {
  CHECK_FALSE(parse_chat_completion(chat_body()).options.ignore_eos);
  CHECK(parse_chat_completion(chat_body({{"ignore_eos", true}}))
          .options.ignore_eos);
  CHECK(parse_completion(completion_body({{"ignore_eos", true}}))
          .options.ignore_eos);
  CHECK_FALSE(parse_chat_completion(chat_body({{"ignore_eos", nullptr}}))
                .options.ignore_eos);
  check_bad_chat({{"ignore_eos", 1}}, "ignore_eos");
  check_bad_completion({{"ignore_eos", "yes"}}, "ignore_eos");
}

TEST_CASE("parse_sampling prefixes parameter names in errors", "[unit]") {
  generation_options o;
  auto params = json{{"temperature", 0.2}, {"stop", "x"}, {"max_tokens", 9},
                     {"seed", 5}, {"top_k", 3}, {"top_p", 0.9}};
  parse_sampling(params, o, "params.");
  CHECK(o.temperature == Approx(0.2f));
  CHECK(o.stop == std::vector<std::string>{"x"});
  CHECK(o.max_tokens == 9);
  CHECK(o.seed == 5u);
  CHECK(o.top_k == 3);
  CHECK(o.top_p == Approx(0.9f));
  for (const auto& [bad, param] :
       std::vector<std::pair<json, std::string>>{
         {{{"temperature", 3}}, "params.temperature"},
         {{{"top_p", 0}}, "params.top_p"},
         {{{"top_k", -1}}, "params.top_k"},
         {{{"max_tokens", 0}}, "params.max_tokens"},
         {{{"max_completion_tokens", 0}}, "params.max_completion_tokens"},
         {{{"seed", "x"}}, "params.seed"},
         {{{"stop", 1}}, "params.stop"},
         {{{"stop", {"a", 1}}}, "params.stop[1]"}}) {
    INFO(bad.dump());
    generation_options fresh;
    check_bad([&] { parse_sampling(bad, fresh, "params."); }, param);
  }
}

TEST_CASE("parse_sampling errors are 400 invalid_value", "[unit]") {
  generation_options o;
  auto e = error_of([&] { parse_sampling({{"top_p", 2}}, o); });
  CHECK(e.status == 400);
  CHECK(e.code == "invalid_value");
  auto body = json::parse(e.to_response().body);
  CHECK(body["error"]["param"] == "top_p");
  CHECK(body["error"]["type"] == "invalid_request_error");
}

TEST_CASE("parse_completion reads a string prompt and the shared fields",
          "[unit]") {
  auto r = parse_completion(completion_body(
    {{"model", "tiny"},
     {"stream", true},
     {"stream_options", {{"include_usage", true}}},
     {"max_tokens", 5}, {"stop", "."}, {"temperature", 0}}));
  CHECK(r.prompt == "Once upon a time");
  CHECK(r.model == "tiny");
  CHECK(r.options.stream);
  CHECK(r.options.include_usage);
  CHECK(r.options.max_tokens == 5);
  CHECK(r.options.stop == std::vector<std::string>{"."});
  CHECK(r.options.temperature == 0.0f);
}

TEST_CASE("parse_completion accepts a one-string prompt array", "[unit]") {
  CHECK(parse_completion({{"prompt", {"only one"}}}).prompt == "only one");
}

TEST_CASE("parse_completion rejects bad prompts and fields", "[unit]") {
  check_bad([] { parse_completion(json::object()); }, "prompt");
  check_bad_completion({{"prompt", nullptr}}, "prompt");
  check_bad_completion({{"prompt", 42}}, "prompt");
  check_bad_completion({{"prompt", {"a", "b"}}}, "prompt");
  check_bad_completion({{"prompt", json::array()}}, "prompt");
  check_bad_completion({{"prompt", {1, 2, 3}}}, "prompt");
  check_bad_completion({{"n", 3}}, "n");
  check_bad_completion({{"model", false}}, "model");
  check_bad_completion({{"user", 1}}, "user");
  check_bad_completion({{"top_p", 0}}, "top_p");
  check_bad_completion({{"stream_options", "x"}}, "stream_options");
}

TEST_CASE("parse_session_message reads content, stream and sampling",
          "[unit]") {
  auto r = parse_session_message(
    {{"content", "Hello"}, {"stream", true}, {"max_tokens", 8}, {"seed", 3}});
  CHECK(r.content == "Hello");
  CHECK(r.options.stream);
  CHECK(r.options.max_tokens == 8);
  CHECK(r.options.seed == 3u);
  auto plain = parse_session_message({{"content", "x"}});
  CHECK_FALSE(plain.options.stream);
}

TEST_CASE("parse_session_message rejects missing, empty or non-string content",
          "[unit]") {
  check_bad([] { parse_session_message(json::object()); }, "content");
  check_bad([] { parse_session_message({{"content", nullptr}}); }, "content");
  check_bad([] { parse_session_message({{"content", ""}}); }, "content");
  check_bad([] { parse_session_message({{"content", 5}}); }, "content");
  check_bad([] { parse_session_message({{"content", "x"}, {"stream", "no"}}); },
            "stream");
  check_bad(
    [] { parse_session_message({{"content", "x"}, {"temperature", 9}}); },
    "temperature");
}
