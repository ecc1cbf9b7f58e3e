#include "actors/api/api_error.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using chat::api::api_error;
using chat::api::bad_param;
using nlohmann::json;

TEST_CASE("bad_param is a 400 invalid_value naming the param", "[unit]") {
  auto e = bad_param("top_p", "'top_p' must be in (0, 1]");
  CHECK(e.status == 400);
  CHECK(e.code == "invalid_value");
  CHECK(e.param == std::optional<std::string>("top_p"));
  CHECK(std::string(e.what()) == "'top_p' must be in (0, 1]");
  CHECK_FALSE(e.retry_after);
}

TEST_CASE("api_error::to_response gives the OpenAI error shape", "[unit]") {
  auto r = bad_param("stop", "too many").to_response();
  CHECK(r.status == 400);
  auto err = json::parse(r.body).at("error");
  CHECK(err == json{{"message", "too many"},
                    {"type", "invalid_request_error"},
                    {"param", "stop"},
                    {"code", "invalid_value"}});
  CHECK(r.headers.empty());
}

TEST_CASE("api_error::to_response adds Retry-After when set", "[unit]") {
  api_error e(429, "rate_limited", "slow down");
  e.retry_after = 12;
  auto r = e.to_response();
  CHECK(r.status == 429);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].first == "Retry-After");
  CHECK(r.headers[0].second == "12");
  CHECK(json::parse(r.body)["error"]["param"].is_null());
}
