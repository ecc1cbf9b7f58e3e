#include "http/api_error.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace chat::http;
using nlohmann::json;

TEST_CASE("error_type_for maps statuses to the OpenAI error types",
          "[unit]") {
  CHECK(std::string(error_type_for(400)) == "invalid_request_error");
  CHECK(std::string(error_type_for(413)) == "invalid_request_error");
  CHECK(std::string(error_type_for(422)) == "invalid_request_error");
  CHECK(std::string(error_type_for(401)) == "authentication_error");
  CHECK(std::string(error_type_for(403)) == "permission_error");
  CHECK(std::string(error_type_for(404)) == "not_found_error");
  CHECK(std::string(error_type_for(409)) == "conflict_error");
  CHECK(std::string(error_type_for(429)) == "rate_limit_error");
  CHECK(std::string(error_type_for(500)) == "server_error");
  CHECK(std::string(error_type_for(502)) == "server_error");
  CHECK(std::string(error_type_for(503)) == "service_unavailable_error");
}

TEST_CASE("error_response has the OpenAI shape with a null param by default",
          "[unit]") {
  auto r = error_response(404, "not_found", "no such session");
  CHECK(r.status == 404);
  CHECK(r.content_type == "application/json");
  auto body = json::parse(r.body);
  REQUIRE(body.size() == 1);
  const auto& err = body.at("error");
  CHECK(err.size() == 4);
  CHECK(err.at("message") == "no such session");
  CHECK(err.at("type") == "not_found_error");
  CHECK(err.at("param").is_null());
  CHECK(err.at("code") == "not_found");
}

TEST_CASE("error_response names the param when given", "[unit]") {
  auto r = error_response(400, "invalid_value", "bad", std::string("top_p"));
  auto err = json::parse(r.body).at("error");
  CHECK(r.status == 400);
  CHECK(err.at("param") == "top_p");
  CHECK(err.at("type") == "invalid_request_error");
}

TEST_CASE("error_response escapes the message as JSON", "[unit]") {
  auto r = error_response(400, "x", "quote \" and \\ and \n newline");
  CHECK(json::parse(r.body).at("error").at("message")
        == "quote \" and \\ and \n newline");
}

TEST_CASE("error_response stays valid JSON when the message is not UTF-8",
          "[unit]") {
  response r;
  REQUIRE_NOTHROW(r = error_response(404, "not_found", "no route for /\xff"));
  auto err = json::parse(r.body).at("error");
  CHECK(err.at("code") == "not_found");
}
