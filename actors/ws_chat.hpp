#pragma once

#include "actors/gateway.hpp"
#include "http/websocket.hpp"

#include <caf/event_based_actor.hpp>

#include <memory>
#include <string>

namespace chat {

/// One WebSocket chat connection (API.md "WebSocket"): authenticates by
/// header or first frame, runs several chats at once told apart by their
/// client ids, cancels them on request or when the socket closes. Frames
/// arrive as ("frame", text) and the close as ("closed"). `address` is the
/// peer's, for the failed-authentication throttle.
caf::behavior ws_chat(caf::event_based_actor* self, gateway_deps deps,
                      std::shared_ptr<http::ws_connection> conn,
                      std::string header_key, std::string address);

} // namespace chat
