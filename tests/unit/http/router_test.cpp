#include "http/router.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace chat::http;
using nlohmann::json;

namespace {

handler tagged(int* hit, int tag) {
  return [hit, tag](request&, responder_ptr) { *hit = tag; };
}

request make_request(std::string method, std::string path) {
  request req;
  req.method = std::move(method);
  req.path = std::move(path);
  return req;
}

std::string header_value(const response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return "<absent>";
}

struct sessions_router {
  router r;
  int hit = 0;
  sessions_router() {
    r.add({"GET", "/api/sessions", access::chat, tagged(&hit, 1)});
    r.add({"POST", "/api/sessions", access::chat, tagged(&hit, 2)});
    r.add({"GET", "/api/sessions/{id}", access::chat, tagged(&hit, 3)});
    r.add({"DELETE", "/api/sessions/{id}", access::chat, tagged(&hit, 4)});
    r.add({"PATCH", "/api/sessions/{id}", access::chat, tagged(&hit, 5)});
    r.add({"POST", "/api/sessions/{id}/messages", access::chat,
           tagged(&hit, 6)});
    r.add({"GET", "/healthz", access::public_, tagged(&hit, 7)});
  }
  int call(const route* found, request& req) {
    found->handle(req, nullptr);
    return hit;
  }
};

} // namespace

TEST_CASE("router matches a literal path and method", "[unit]") {
  sessions_router s;
  auto req = make_request("POST", "/api/sessions");
  response error;
  auto found = s.r.match(req, error);
  REQUIRE(found);
  CHECK(found->method == "POST");
  CHECK(found->pattern == "/api/sessions");
  CHECK(found->needs == access::chat);
  CHECK(s.call(found, req) == 2);
  CHECK(req.params.empty());
}

TEST_CASE("router captures {id} segments into params", "[unit]") {
  sessions_router s;
  auto req = make_request("POST", "/api/sessions/sess_42/messages");
  response error;
  auto found = s.r.match(req, error);
  REQUIRE(found);
  CHECK(s.call(found, req) == 6);
  CHECK(req.params.size() == 1);
  CHECK(req.params.at("id") == "sess_42");
}

TEST_CASE("router percent-decodes captured params", "[unit]") {
  sessions_router s;
  auto req = make_request("GET", "/api/sessions/a%20b%2Fc");
  response error;
  REQUIRE(s.r.match(req, error));
  CHECK(req.params.at("id") == "a b/c");
}

TEST_CASE("router captures several params", "[unit]") {
  router r;
  r.add({"GET", "/a/{x}/b/{y}", access::public_, nullptr});
  auto req = make_request("GET", "/a/1/b/2");
  response error;
  REQUIRE(r.match(req, error));
  CHECK(req.params.at("x") == "1");
  CHECK(req.params.at("y") == "2");
}

TEST_CASE("router does not match an empty {id} segment", "[unit]") {
  sessions_router s;
  auto req = make_request("GET", "/api/sessions/");
  response error;
  CHECK_FALSE(s.r.match(req, error));
  CHECK(error.status == 404);
}

TEST_CASE("router answers 404 for an unknown path in the OpenAI shape",
          "[unit]") {
  sessions_router s;
  for (const char* path : {"/nope", "/api", "/api/sessions/x/y",
                           "/api/sessions/x/messages/extra", "/healthz/"}) {
    INFO(path);
    auto req = make_request("GET", path);
    response error;
    CHECK_FALSE(s.r.match(req, error));
    CHECK(error.status == 404);
    auto err = json::parse(error.body).at("error");
    CHECK(err.at("type") == "not_found_error");
    CHECK(err.at("code") == "not_found");
    CHECK(err.at("param").is_null());
    CHECK(header_value(error, "Allow") == "<absent>");
  }
}

TEST_CASE("router answers 405 with an Allow header listing the methods",
          "[unit]") {
  sessions_router s;
  auto req = make_request("PUT", "/api/sessions/abc");
  response error;
  CHECK_FALSE(s.r.match(req, error));
  CHECK(error.status == 405);
  CHECK(header_value(error, "Allow") == "GET, DELETE, PATCH");
  auto err = json::parse(error.body).at("error");
  CHECK(err.at("code") == "method_not_allowed");
  CHECK(err.at("type") == "invalid_request_error");
  CHECK(req.params.empty());
}

TEST_CASE("router's Allow header lists each method once", "[unit]") {
  router r;
  r.add({"GET", "/x/{id}", access::public_, nullptr});
  r.add({"GET", "/x/special", access::public_, nullptr});
  r.add({"POST", "/x/special", access::public_, nullptr});
  auto req = make_request("DELETE", "/x/special");
  response error;
  CHECK_FALSE(r.match(req, error));
  CHECK(error.status == 405);
  CHECK(header_value(error, "Allow") == "GET, POST");
}

TEST_CASE("router prefers the route added first when patterns overlap",
          "[unit]") {
  router r;
  int hit = 0;
  r.add({"GET", "/x/special", access::admin, tagged(&hit, 1)});
  r.add({"GET", "/x/{id}", access::chat, tagged(&hit, 2)});
  auto req = make_request("GET", "/x/special");
  response error;
  auto found = r.match(req, error);
  REQUIRE(found);
  CHECK(found->needs == access::admin);
  CHECK(req.params.empty());
  auto other = make_request("GET", "/x/7");
  found = r.match(other, error);
  REQUIRE(found);
  CHECK(found->needs == access::chat);
  CHECK(other.params.at("id") == "7");
}

TEST_CASE("router keeps its routes in the order added", "[unit]") {
  sessions_router s;
  const auto& routes = s.r.routes();
  REQUIRE(routes.size() == 7);
  CHECK(routes.front().pattern == "/api/sessions");
  CHECK(routes.back().pattern == "/healthz");
  CHECK(routes[5].method == "POST");
}

TEST_CASE("router matches the root path", "[unit]") {
  router r;
  r.add({"GET", "/", access::public_, nullptr});
  auto req = make_request("GET", "/");
  response error;
  CHECK(r.match(req, error));
  auto other = make_request("GET", "/index.html");
  CHECK_FALSE(r.match(other, error));
  CHECK(error.status == 404);
}

TEST_CASE("router answers 404 for a path that is not UTF-8",
          "[unit]") {
  sessions_router s;
  auto req = make_request("GET", "/caf\xC3/\xff");
  response error;
  const route* found = nullptr;
  REQUIRE_NOTHROW(found = s.r.match(req, error));
  CHECK_FALSE(found);
  CHECK(error.status == 404);
  CHECK(json::parse(error.body).at("error").at("code") == "not_found");
}
