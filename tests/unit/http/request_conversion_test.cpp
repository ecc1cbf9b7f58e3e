#include "http/request_conversion.hpp"

#include <catch2/catch.hpp>

namespace bhttp = boost::beast::http;

TEST_CASE("to_request lowercases header names and splits the target",
          "[unit]") {
  bhttp::request<bhttp::string_body> in{bhttp::verb::post,
                                        "/v1/x?limit=5&name=a%20b", 11};
  in.set("X-Api-Key", "Secret");
  in.body() = "{}";
  auto req = chat::http::to_request(in);
  CHECK(req.method == "POST");
  CHECK(req.path == "/v1/x");
  CHECK(req.query.at("limit") == "5");
  CHECK(req.query.at("name") == "a b");
  CHECK(req.header("x-api-key") == "Secret");
  CHECK(req.body == "{}");
}

TEST_CASE("to_request keeps a target without a query whole", "[unit]") {
  bhttp::request<bhttp::string_body> in{bhttp::verb::get, "/healthz", 11};
  auto req = chat::http::to_request(in);
  CHECK(req.path == "/healthz");
  CHECK(req.query.empty());
}
