#pragma once

#include "http/message.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace chat::http {

/// Where a client connects. With `tls` the server's certificate must chain
/// to `ca_file` (PEM; empty: the system's store) and name `host`.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
  std::string ca_file = {};
};

/// A response as a client sees it.
struct client_response {
  int status = 0;
  header_map headers;
  std::string body;
};

/// One blocking request on a fresh connection (for `chatctl` and tests).
/// @throws std::runtime_error when the server cannot be reached, its TLS
///         certificate is not trusted, or the exchange does not finish
///         within `timeout`.
client_response fetch(const endpoint& to, const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const header_map& headers = {},
                      std::chrono::milliseconds timeout
                      = std::chrono::seconds(30));

/// As fetch(), with the file at `path` streamed as the body (not held in
/// memory); Content-Length is its size.
/// @throws std::runtime_error also when the file cannot be read.
client_response fetch_file(const endpoint& to, const std::string& method,
                           const std::string& target, const std::string& path,
                           const header_map& headers = {},
                           std::chrono::milliseconds timeout
                           = std::chrono::seconds(30));

/// Receives a streamed response: the status and headers once, then the
/// body as it arrives (de-chunked). `on_data` returns false to stop early.
struct stream_handlers {
  std::function<void(int status, const header_map& headers)> on_headers;
  std::function<bool(const std::string& data)> on_data;
};

/// One request whose response body is delivered piece by piece.
/// `idle_timeout` bounds the wait for each piece.
/// @throws std::runtime_error as fetch() does.
void fetch_stream(const endpoint& to, const std::string& method, const std::string& target,
                  const std::string& body, const header_map& headers,
                  const stream_handlers& handlers,
                  std::chrono::milliseconds idle_timeout
                  = std::chrono::seconds(60));

} // namespace chat::http
