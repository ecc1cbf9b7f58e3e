#include "http/message.hpp"

#include <catch2/catch.hpp>

using namespace chat::http;

TEST_CASE("parse_query splits pairs and percent-decodes keys and values",
          "[unit]") {
  auto q = parse_query("a=1&b=x%20y&c%3D=%2Fpath");
  CHECK(q.size() == 3);
  CHECK(q.at("a") == "1");
  CHECK(q.at("b") == "x y");
  CHECK(q.at("c=") == "/path");
}

TEST_CASE("parse_query keeps the last value of a repeated key", "[unit]") {
  auto q = parse_query("limit=10&limit=20");
  CHECK(q.size() == 1);
  CHECK(q.at("limit") == "20");
}

TEST_CASE("parse_query gives a key without '=' an empty value", "[unit]") {
  auto q = parse_query("flag&x=");
  CHECK(q.size() == 2);
  CHECK(q.at("flag").empty());
  CHECK(q.at("x").empty());
}

TEST_CASE("parse_query splits only at the first '=' of a pair", "[unit]") {
  auto q = parse_query("expr=a=b");
  CHECK(q.at("expr") == "a=b");
}

TEST_CASE("parse_query skips empty pieces and empty input", "[unit]") {
  CHECK(parse_query("").empty());
  CHECK(parse_query("&&").empty());
  auto q = parse_query("&a=1&&b=2&");
  CHECK(q.size() == 2);
  CHECK(q.at("a") == "1");
  CHECK(q.at("b") == "2");
}

TEST_CASE("parse_query leaves '+' as '+'", "[unit]") {
  CHECK(parse_query("q=a+b").at("q") == "a+b");
}

TEST_CASE("percent_decode decodes upper- and lowercase hex escapes",
          "[unit]") {
  CHECK(percent_decode("%41%62%2f%2F") == "Ab//");
  CHECK(percent_decode("caf%C3%A9") == "caf\xC3\xA9");
  CHECK(percent_decode("%00") == std::string(1, '\0'));
  CHECK(percent_decode("%ff") == "\xff");
}

TEST_CASE("percent_decode leaves invalid or truncated escapes as they are",
          "[unit]") {
  CHECK(percent_decode("%zz") == "%zz");
  CHECK(percent_decode("%4") == "%4");
  CHECK(percent_decode("100%") == "100%");
  CHECK(percent_decode("%g1x") == "%g1x");
  CHECK(percent_decode("%%41") == "%A");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("") == "");
}

TEST_CASE("request::header returns the value or an empty string", "[unit]") {
  request req;
  req.headers["x-api-key"] = "k";
  CHECK(req.header("x-api-key") == "k");
  CHECK(req.header("authorization").empty());
}

TEST_CASE("json_response sets status, body and the JSON content type",
          "[unit]") {
  auto r = json_response(201, "{}");
  CHECK(r.status == 201);
  CHECK(r.body == "{}");
  CHECK(r.content_type == "application/json");
  CHECK(r.headers.empty());
}
