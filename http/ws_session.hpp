#pragma once

#include "http/server.hpp"
#include "http/websocket.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace chat::http {

/// Completes the WebSocket handshake for `upgrade` on `socket` and runs the
/// socket: frames to `accept`'s callbacks, sends queued on its strand.
void start_websocket(boost::asio::ip::tcp::socket socket,
                     boost::beast::http::request<
                       boost::beast::http::string_body>
                       upgrade,
                     request req, const server_limits& limits,
                     const ws_acceptor& accept);

} // namespace chat::http
