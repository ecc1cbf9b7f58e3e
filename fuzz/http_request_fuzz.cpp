// Fuzzes what chatd does with a client's bytes before any actor sees them:
// Beast's request parser with the server's limits, the conversion to
// http::request, routing, and the validation of the request bodies and
// query parameters of the chat routes. Validation may fail only with
// api_error, whose response must be the API's error shape; anything else
// escaping (a 500 for the client) is a finding.

#include "actors/api/api_error.hpp"
#include "actors/api/generation_request.hpp"
#include "actors/routes/request_fields.hpp"
#include "http/request_conversion.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace {

namespace bhttp = boost::beast::http;
using namespace chat;

void create_or_update_session(http::request& req) {
  auto body = object_body(req.body);
  optional_string(body, "title");
  optional_string(body, "system_prompt");
}

void list_sessions(http::request& req) {
  page_limit(req);
  query_param(req, "before");
}

void simple_chat(http::request& req) {
  auto body = object_body(req.body);
  optional_string(body, "message");
  optional_string(body, "session_id");
}

/// The chat routes of API.md, each doing only its validation.
const http::router& chat_routes() {
  static const http::router routes = [] {
    using validate = void (*)(http::request&);
    http::router r;
    auto add = [&r](const char* method, const char* pattern, validate v) {
      r.add({method, pattern, http::access::chat,
             [v](http::request& req, http::responder_ptr) { v(req); }});
    };
    add("POST", "/v1/chat/completions", [](http::request& req) {
      api::parse_chat_completion(api::parse_body(req.body));
    });
    add("POST", "/v1/completions", [](http::request& req) {
      api::parse_completion(api::parse_body(req.body));
    });
    add("POST", "/api/sessions/{id}/messages", [](http::request& req) {
      api::parse_session_message(api::parse_body(req.body));
    });
    add("POST", "/api/sessions", create_or_update_session);
    add("PATCH", "/api/sessions/{id}", create_or_update_session);
    add("GET", "/api/sessions", list_sessions);
    add("POST", "/chat", simple_chat);
    return r;
  }();
  return routes;
}

/// Parses one request as the server's session does (header limit, then the
/// larger body limit); nullopt when Beast rejects the bytes.
std::optional<http::request> parse_request(const std::uint8_t* data,
                                           std::size_t size) {
  const http::server_limits limits;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(limits.max_header_bytes);
  parser.body_limit(std::max(limits.max_body_bytes, limits.max_upload_bytes));
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    auto n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == bhttp::error::need_more)
      break;
    if (ec)
      return std::nullopt;
    if (n == 0)
      break;
    used += n;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done())
      return std::nullopt;
  }
  return http::to_request(parser.get());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto req = parse_request(data, size);
  if (!req)
    return 0;
  http::response error;
  const auto* route = chat_routes().match(*req, error);
  if (!route)
    return 0;
  try {
    route->handle(*req, nullptr);
  } catch (const api::api_error& e) {
    auto r = e.to_response();
    if (r.status < 400 || r.status > 499 || r.body.empty())
      std::abort();
  }
  return 0;
}
