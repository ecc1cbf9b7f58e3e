#pragma once

#include "http/message.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace chat::http {

/// A response as a client sees it.
struct client_response {
  int status = 0;
  header_map headers;
  std::string body;
};

/// One blocking request on a fresh connection (for `chatctl` and tests).
/// @throws std::runtime_error when the server cannot be reached or the
///         exchange does not finish within `timeout`.
client_response fetch(const std::string& host, std::uint16_t port,
                      const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const header_map& headers = {},
                      std::chrono::milliseconds timeout
                      = std::chrono::seconds(30));

} // namespace chat::http
