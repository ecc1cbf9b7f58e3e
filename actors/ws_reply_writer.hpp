#pragma once

#include "actors/reply_writer.hpp"
#include "http/websocket.hpp"

#include <memory>
#include <string>

namespace chat {

/// WebSocket frames of one chat: `token` frames, then `done` or `error`,
/// all tagged with the client's chat id.
reply_writer_ptr make_ws_writer(std::shared_ptr<http::ws_connection> conn,
                                std::string chat_id);

/// The `error` frame for `error`, tagged with `chat_id` when not empty.
std::string ws_error_frame(const std::string& chat_id,
                           const api::api_error& error);

} // namespace chat
