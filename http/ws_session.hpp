#pragma once

#include "http/server.hpp"
#include "http/websocket.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>

namespace chat::http {

/// Holds one place of the server's connection count while alive.
using connection_slot = std::shared_ptr<void>;

/// The upgrade request a WebSocket handshake answers.
using upgrade_request
  = boost::beast::http::request<boost::beast::http::string_body>;

/// Completes the WebSocket handshake for `upgrade` on `stream` and runs the
/// socket: frames to `accept`'s callbacks, sends queued on its strand.
void start_websocket(boost::beast::tcp_stream&& stream,
                     upgrade_request upgrade, request req,
                     const server_limits& limits, const ws_acceptor& accept,
                     connection_slot slot);

/// The same over TLS (WSS), on a stream whose TLS handshake is done.
void start_websocket(boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream,
                     upgrade_request upgrade, request req,
                     const server_limits& limits, const ws_acceptor& accept,
                     connection_slot slot);

} // namespace chat::http
