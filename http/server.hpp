#pragma once

#include "http/router.hpp"
#include "http/websocket.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chat::http {

/// Limits applied to every connection.
struct server_limits {
  /// Largest accepted request body.
  std::uint64_t max_body_bytes = 1u << 20;
  /// Largest body for paths starting with one of `upload_paths`.
  std::uint64_t max_upload_bytes = 64u << 20;
  std::vector<std::string> upload_paths;
  std::uint32_t max_header_bytes = 16u << 10;
  int read_timeout_s = 30;
  /// Largest WebSocket message.
  std::uint64_t max_ws_message_bytes = 64u << 10;
  /// Most bytes queued for a slow client (stream or socket) before it is
  /// dropped.
  std::uint64_t max_pending_bytes = 4u << 20;
  /// Most open connections (HTTP and WebSocket); one more is answered 503
  /// with Retry-After and closed.
  std::uint32_t max_connections = 4096;
};

/// PEM files of the certificate chain and its key; both empty serves plain
/// HTTP and WS, both set serves only HTTPS and WSS.
struct tls_files {
  std::string cert_file;
  std::string key_file;
};

/// Where WebSocket upgrades go.
struct websocket_routes {
  /// Paths that accept an upgrade (e.g. "/v1/ws", "/ws").
  std::vector<std::string> paths;
  ws_acceptor accept;
};

/// The gateway's HTTP listener: Beast on its own io_context threads. Each
/// connection reads one request at a time (keep-alive), dispatches it through
/// the router and writes the response on the connection's strand.
class server {
public:
  /// Binds `host:port` (port 0: any free one) and starts `threads` threads.
  /// @throws std::runtime_error when the address cannot be bound or the TLS
  ///         files cannot be used.
  server(const std::string& host, std::uint16_t port, int threads,
         server_limits limits, std::shared_ptr<const router> routes,
         std::function<void(request&, const route&, responder_ptr)> dispatch,
         websocket_routes websockets = {}, const tls_files& tls = {});
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The port actually bound.
  std::uint16_t port() const;

  /// Stops accepting connections; open ones are served on.
  void stop_accepting();

  /// Requests being answered now, streams included.
  std::uint32_t requests_in_progress() const;

  /// Stops accepting, closes connections and joins the threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace chat::http
