#pragma once

#include "http/message.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chat::http {

/// Completes one request. Handlers may call it later from any thread
/// (e.g. when an actor answers); it posts onto the connection's strand.
/// Either `send` once, or `start_stream`, any number of `write`s, `finish`.
class responder {
public:
  virtual ~responder() = default;

  /// Sends a complete response; later calls are ignored.
  virtual void send(response r) = 0;

  /// Starts a chunked response of `content_type` (status 200); the
  /// connection closes after `finish`.
  virtual void start_stream(std::string content_type,
                            header_list headers) = 0;

  /// Queues one piece of a stream. Writes go out one at a time; when the
  /// client falls too far behind the connection is dropped (and `on_close`
  /// runs) instead of buffering without bound.
  virtual void write(std::string data) = 0;

  /// Ends the stream.
  virtual void finish() = 0;

  /// Runs `callback` once (on an I/O thread) when the client goes away
  /// before the response ended; at once if it already has.
  virtual void on_close(std::function<void()> callback) = 0;
};

using responder_ptr = std::shared_ptr<responder>;

/// Handles a request; must eventually call `send` on the responder.
using handler = std::function<void(request&, responder_ptr)>;

/// Who may call a route.
enum class access { public_, chat, admin };

/// One entry of the route table.
struct route {
  std::string method;
  /// Path pattern; a segment "{name}" captures into request::params.
  std::string pattern;
  access needs;
  handler handle;
};

/// Maps method + path to a handler; answers 404 and 405 (with Allow) itself.
class router {
public:
  void add(route r);

  /// Every route, in the order added (for docs and the authorization matrix).
  const std::vector<route>& routes() const {
    return routes_;
  }

  /// Finds the route for `req`, filling `req.params`. Returns nullptr and
  /// sets `error` to the 404/405 response when none matches.
  const route* match(request& req, response& error) const;

private:
  std::vector<route> routes_;
};

} // namespace chat::http
