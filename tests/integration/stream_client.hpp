#pragma once

// Test clients for chatd's streamed answers, on Boost.Beast: an incremental
// HTTP response reader (the body as it arrives, de-chunked), an SSE parser on
// top of it, and a WebSocket client. Every read has a deadline and runs the
// client's own io_context for at most that long (no sleeps); a missed
// deadline throws `timeout_error`. One client per thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace chat::testing {

/// A read or connect that did not finish within its deadline.
struct timeout_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using header_pairs = std::vector<std::pair<std::string, std::string>>;

constexpr std::chrono::milliseconds default_deadline{30000};

/// One HTTP/1.1 request on its own connection whose response is read
/// piece by piece: status and headers first, then the body bytes as they
/// arrive (chunked encoding removed).
class http_stream {
public:
  /// Connects to 127.0.0.1:`port`, sends the request and reads the status
  /// line and headers.
  http_stream(std::uint16_t port, const std::string& method,
              const std::string& target, const std::string& body = {},
              const header_pairs& headers = {},
              std::chrono::milliseconds deadline = default_deadline);
  ~http_stream();
  http_stream(const http_stream&) = delete;
  http_stream& operator=(const http_stream&) = delete;

  int status() const;

  /// Header value by case-insensitive name; "" when absent.
  std::string header(const std::string& name) const;

  /// Every header, names in lower case.
  const std::map<std::string, std::string>& headers() const;

  /// The next body bytes, as soon as any arrive; nullopt once the body has
  /// ended (and on every later call).
  std::optional<std::string> read_some(
    std::chrono::milliseconds deadline = default_deadline);

  /// The rest of the body, until it ends.
  std::string read_all(std::chrono::milliseconds deadline = default_deadline);

  /// True once the whole body was read.
  bool done() const;

  /// Drops the connection at once, mid-body or not (an abrupt client
  /// disconnect).
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// One server-sent event.
struct sse_event {
  std::string event;  // "" when the event had no `event:` line
  std::string data;   // `data:` lines joined by "\n"
};

/// Reads `text/event-stream` from an `http_stream`, one event at a time,
/// keeping the raw bytes for exact framing checks.
class sse_reader {
public:
  explicit sse_reader(http_stream& stream);

  /// The next event; nullopt once the body ended (bytes after the last
  /// blank line are left in `pending()`).
  std::optional<sse_event> next(
    std::chrono::milliseconds deadline = default_deadline);

  /// Every event until the body ends.
  std::vector<sse_event> rest(
    std::chrono::milliseconds deadline = default_deadline);

  /// Every body byte read so far, exactly as received.
  const std::string& raw() const {
    return raw_;
  }

  /// Bytes read but not yet part of a complete event.
  const std::string& pending() const {
    return buffer_;
  }

private:
  std::optional<sse_event> take_event();

  http_stream& stream_;
  std::string raw_;
  std::string buffer_;
};

/// A WebSocket client on its own connection.
class ws_client {
public:
  /// Connects to ws://127.0.0.1:`port``target` with extra handshake
  /// headers. Throws when the handshake fails (the message names the HTTP
  /// status).
  ws_client(std::uint16_t port, const std::string& target,
            const header_pairs& headers = {},
            std::chrono::milliseconds deadline = default_deadline);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Sends one text frame.
  void send(const std::string& text,
            std::chrono::milliseconds deadline = default_deadline);

  /// The next text frame; nullopt when the server closed the socket (then
  /// `close_code()` tells why).
  std::optional<std::string> receive(
    std::chrono::milliseconds deadline = default_deadline);

  /// Starts a normal close and waits for the server's answer.
  void close(std::uint16_t code = 1000,
             std::chrono::milliseconds deadline = default_deadline);

  /// Drops the TCP connection without a close handshake.
  void drop();

  /// The code of the server's close frame, once one arrived.
  std::optional<std::uint16_t> close_code() const;

  /// True while the socket can still send and receive.
  bool is_open() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace chat::testing
