#pragma once

#include "http/message.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace chat::http {

/// The application's handle on one WebSocket; safe to use from any thread.
class ws_connection {
public:
  virtual ~ws_connection() = default;

  /// Queues a text frame. A client that falls too far behind is dropped
  /// rather than buffered without bound.
  virtual void send(std::string text) = 0;

  /// Sends a close frame with `code` and `reason`, then closes.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

/// What the application does with a socket's events. Both run on the
/// socket's strand, one at a time.
struct ws_callbacks {
  /// A complete text (or binary) message arrived.
  std::function<void(std::string)> on_message;
  /// The socket closed (either side, or an error); runs once.
  std::function<void()> on_close;
};

/// Accepts an upgrade request to a WebSocket route.
using ws_acceptor
  = std::function<ws_callbacks(request&, std::shared_ptr<ws_connection>)>;

} // namespace chat::http
